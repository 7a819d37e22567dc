"""Issue 14 item 1: the date and time rules (``academy.catalogue.schedule``) on every cohort and
session form: the horizon, sessions that belong together, enrolment closing before the start,
the hour the clocks skip and the hour that happens twice."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from academy.catalogue import schedule
from academy.catalogue.models import Cohort, CohortSession
from academy.extensions import db

SPRING = date(2027, 3, 28)  # the clocks go forward at 01:00 GMT
AUTUMN = date(2027, 10, 31)  # the clocks go back at 02:00 BST


@pytest.fixture
def provider_world(make_provider, make_course, make_cohort, make_user):
    provider = make_provider("Provider X")
    course = make_course("KUF Awareness", provider=provider)
    cohort = make_cohort(course, capacity=4, session_days=(0, 7))
    staff = make_user(name="Sam Staff", staff_of=provider)
    return provider, course, cohort, staff


def cohort_count() -> int:
    return db.session.scalar(select(func.count(Cohort.id)))


def new_cohort(client, csrf, provider, course, **fields):
    data = {
        "capacity": "8",
        "location": "Training room 1, Leeds",
        "closes_on": "",
        "date": "2027-05-12",
        "start_time": "09:30",
        "end_time": "16:30",
        "csrf_token": csrf(client),
        **fields,
    }
    return client.post(f"/provider/{provider.slug}/courses/{course.id}/cohorts/new", data=data)


# ---------------------------------------------------------------------------- the rules


def test_the_hour_the_clocks_skip_is_refused_naming_the_gap():
    assert schedule.is_gap(SPRING, time(1, 30)) and schedule.is_gap(SPRING, time(1, 0))
    assert not schedule.is_gap(SPRING, time(0, 59)) and not schedule.is_gap(SPRING, time(2, 0))
    with pytest.raises(schedule.ScheduleError) as refused:
        schedule.to_utc(SPRING, time(1, 30))
    assert "from 01:00 to 02:00" in refused.value.message
    assert "Sun 28 March 2027" in refused.value.message


def test_the_hour_that_happens_twice_is_the_first_one_in_summer_time():
    moment = schedule.to_utc(AUTUMN, time(1, 30))
    assert moment.ambiguous
    assert moment.utc == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 01:30 BST
    assert schedule.to_utc(AUTUMN, time(2, 30)).utc == datetime(2027, 10, 31, 2, 30, tzinfo=UTC)
    assert not schedule.to_utc(AUTUMN, time(2, 30)).ambiguous
    # shown back the same way it was typed
    assert schedule.to_local(moment.utc).time() == time(1, 30)


# ---------------------------------------------------------------------------- the forms


def test_a_new_cohort_in_the_skipped_hour_is_refused_and_nothing_is_stored(
    client, login, csrf, provider_world
):
    provider, course, _, staff = provider_world
    login(client, staff)
    before = cohort_count()
    response = new_cohort(
        client, csrf, provider, course, date="2027-03-28", start_time="01:30", end_time="02:30"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "does not exist in the UK" in page and "from 01:00 to 02:00" in page
    assert 'value="01:30"' in page  # what was typed is kept
    assert cohort_count() == before


def test_moving_a_session_into_the_skipped_hour_is_refused_not_shifted(
    client, login, csrf, provider_world
):
    provider, _, cohort, staff = provider_world
    session = cohort.sessions[0]
    was = (session.starts_at, session.ends_at)
    login(client, staff)
    response = client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/sessions/{session.id}",
        data={
            "date": "2027-03-28",
            "start_time": "01:00",
            "end_time": "03:00",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 422
    assert "clocks go forward" in response.get_data(as_text=True)
    db.session.expire_all()
    moved = db.session.get(CohortSession, session.id)
    assert (moved.starts_at, moved.ends_at) == was


def test_the_hour_that_happens_twice_follows_the_rule_shown_to_the_provider(
    client, login, csrf, provider_world
):
    provider, course, _, staff = provider_world
    login(client, staff)
    form = client.get(f"/provider/{provider.slug}/courses/{course.id}/cohorts/new")
    assert schedule.AMBIGUOUS_RULE in form.get_data(as_text=True)
    response = new_cohort(
        client, csrf, provider, course, date="2027-10-31", start_time="01:30", end_time="03:00"
    )
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "we take the first one, in British Summer Time" in page
    cohort = db.session.scalars(select(Cohort).order_by(Cohort.id.desc())).first()
    assert cohort.sessions[0].starts_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert cohort.sessions[0].ends_at == datetime(2027, 10, 31, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "words"),
    [
        ("2020-06-01", "in the past"),
        ("0001-01-01", "in the past"),
        ("9999-12-31", "at most 3 years ahead"),
        ("2031-03-14", "at most 3 years ahead"),
    ],
)
def test_dates_outside_the_horizon_are_refused(client, login, csrf, provider_world, day, words):
    provider, course, _, staff = provider_world
    login(client, staff)
    before = cohort_count()
    response = new_cohort(client, csrf, provider, course, date=day)
    assert response.status_code == 422
    assert words in response.get_data(as_text=True)
    assert cohort_count() == before


def test_a_session_far_from_the_others_is_refused(client, login, csrf, provider_world):
    provider, _, cohort, staff = provider_world
    login(client, staff)
    far = (cohort.starts_at + timedelta(days=500)).date().isoformat()
    response = client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/sessions",
        data={"date": far, "start_time": "09:30", "end_time": "12:00", "csrf_token": csrf(client)},
    )
    assert response.status_code == 422
    assert "more than a year from the cohort" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(db.session.get(Cohort, cohort.id).sessions) == 2


def test_enrolment_must_close_by_the_first_session(client, login, csrf, provider_world):
    provider, course, cohort, staff = provider_world
    login(client, staff)
    response = new_cohort(client, csrf, provider, course, date="2027-03-10", closes_on="2027-04-01")
    assert response.status_code == 422
    assert "on or before the day of the first session" in response.get_data(as_text=True)
    late = (schedule.to_local(cohort.starts_at).date() + timedelta(days=3)).isoformat()
    edit = client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/edit",
        data={
            "capacity": "4",
            "location": "Training room 1, Leeds",
            "closes_on": late,
            "csrf_token": csrf(client),
        },
    )
    assert edit.status_code == 422
    assert "on or before the day of the first session" in edit.get_data(as_text=True)


# ---------------------------------------------------------------------------- a sweep

DAYS = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.dates(min_value=date(2026, 11, 1), max_value=date(2030, 1, 1)),
    st.sampled_from([SPRING, AUTUMN, date(2028, 3, 26), date(2028, 10, 29)]),
)
TIMES = st.one_of(
    st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    st.sampled_from([time(0, 59), time(1, 0), time(1, 30), time(1, 59), time(2, 0)]),
)
TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "25:00", "²", "2027-02-30", "\x00", "99999-01-01", "-1"]),
)


def _typed(value) -> str:
    return value.isoformat() if isinstance(value, date) else value


def _as_form_time(value) -> str:
    return value.strftime("%H:%M") if isinstance(value, time) else value


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    day=st.one_of(DAYS, TEXT),
    start=st.one_of(TIMES, TEXT),
    end=st.one_of(TIMES, TEXT),
    which=st.sampled_from(["new", "add", "move", "edit"]),
)
def test_no_date_or_time_gives_a_server_error_or_a_time_other_than_typed(
    client, login, csrf, provider_world, day, start, end, which
):
    provider, course, cohort, staff = provider_world
    login(client, staff)
    data = {
        "date": _typed(day),
        "start_time": _as_form_time(start),
        "end_time": _as_form_time(end),
        "csrf_token": csrf(client),
    }
    session_id = cohort.sessions[0].id
    if which == "new":
        data.update(capacity="3", location="Leeds", closes_on="")
        url = f"/provider/{provider.slug}/courses/{course.id}/cohorts/new"
    elif which == "add":
        url = f"/provider/{provider.slug}/cohorts/{cohort.id}/sessions"
    elif which == "move":
        url = f"/provider/{provider.slug}/cohorts/{cohort.id}/sessions/{session_id}"
    else:  # the edit form has one date: when enrolment closes
        data = {"capacity": "4", "location": "Leeds", "closes_on": _typed(day),
                "csrf_token": data["csrf_token"]}  # fmt: skip
        url = f"/provider/{provider.slug}/cohorts/{cohort.id}/edit"
    latest = db.session.scalar(select(func.max(CohortSession.id)))
    response = client.post(url, data=data)
    assert response.status_code in (303, 422), response.status_code
    db.session.expire_all()
    if response.status_code != 303:
        return
    if which == "edit":
        closes = db.session.get(Cohort, cohort.id).enrolment_closes_at
        assert closes == (schedule.closing_moment(day) if day else None)
        return
    assert isinstance(day, date) and isinstance(start, time) and isinstance(end, time)
    expected = (schedule.to_utc(day, start).utc, schedule.to_utc(day, end).utc)
    if which == "move":
        stored = db.session.get(CohortSession, session_id)
    else:
        stored = db.session.scalar(
            select(CohortSession).where(CohortSession.id > latest).order_by(CohortSession.id)
        )
    assert (stored.starts_at, stored.ends_at) == expected
    assert schedule.to_local(stored.starts_at).time() == start


def test_saving_a_session_in_the_second_doubled_hour_unchanged_keeps_it(
    client, login, csrf, provider_world
):
    """A session stored at the second 01:30 (GMT) of the night the clocks go back, saved again
    as shown, stays where it was: it is not moved to the first 01:30."""
    provider, _, cohort, staff = provider_world
    session = cohort.sessions[1]
    second = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 01:30 GMT, after the change
    session.starts_at, session.ends_at = second, second + timedelta(hours=2)
    db.session.commit()
    login(client, staff)
    url = f"/provider/{provider.slug}/cohorts/{cohort.id}/sessions/{session.id}"
    form = client.get(url).get_data(as_text=True)
    assert 'value="01:30"' in form and 'value="03:30"' in form
    response = client.post(
        url,
        data={
            "date": "2027-10-31",
            "start_time": "01:30",
            "end_time": "03:30",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(CohortSession, session.id).starts_at == second


def test_a_new_cohort_cannot_close_before_today(client, login, csrf, provider_world):
    provider, course, _, staff = provider_world
    login(client, staff)
    response = new_cohort(client, csrf, provider, course, closes_on="0001-01-01")
    assert response.status_code == 422
    assert "The closing date is in the past" in response.get_data(as_text=True)
