"""Removing a cohort's session: the confirmation, the rules, the learners told, the log."""

from __future__ import annotations

from icalendar import Calendar
from sqlalchemy import select

from academy.audit import AuditEntry
from academy.catalogue.models import Cohort, CohortSession
from academy.enrolment import services as enrolment
from academy.enrolment.calendar import session_uid
from academy.extensions import db
from academy.formatting import format_date
from academy.mail.models import OutboxMessage


def mails(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def setup(make_provider, make_course, make_cohort, make_user, **cohort_fields):
    provider = make_provider("Provider X")
    course = make_course("KUF Awareness", provider=provider)
    cohort = make_cohort(course, **{"capacity": 1, "session_days": (0, 7, 14), **cohort_fields})
    staff = make_user(name="Sam Staff", staff_of=provider)
    return provider, cohort, staff


def remove_url(provider, cohort, session) -> str:
    return f"/provider/{provider.slug}/cohorts/{cohort.id}/sessions/{session.id}/remove"


def session_ids(cohort) -> list[int]:
    return list(
        db.session.scalars(select(CohortSession.id).where(CohortSession.cohort_id == cohort.id))
    )


def test_removing_a_session_tells_learners_and_raises_the_others_sequence(
    client, app, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    placed, waiting, asking = make_user(), make_user(), make_user()
    place = enrolment.enrol(placed, cohort.id)
    enrolment.enrol(waiting, cohort.id)  # capacity 1: the waitlist
    db.session.commit()
    first, middle, last = cohort.sessions
    when = format_date(middle.starts_at)
    login(client, staff)

    page = client.get(f"/provider/{provider.slug}/cohorts/{cohort.id}").get_data(as_text=True)
    assert remove_url(provider, cohort, middle) in page
    confirm = client.get(remove_url(provider, cohort, middle))
    assert confirm.status_code == 200
    assert "Yes, remove the session" in confirm.get_data(as_text=True)
    assert when in confirm.get_data(as_text=True)

    response = client.post(remove_url(provider, cohort, middle), data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    db.session.expire_all()
    assert session_ids(cohort) == [first.id, last.id]
    remaining = db.session.get(Cohort, cohort.id).sessions
    assert [s.sequence for s in remaining] == [1, 1]  # "session 1 of 3" became "1 of 2"
    told = mails("session_removed")
    assert sorted(m.to_address for m in told) == sorted([placed.email, waiting.email])
    assert asking.email not in {m.to_address for m in told}
    assert all(when in m.body and format_date(last.starts_at) in m.body for m in told)
    assert all(when not in m.body.split("The dates now:")[1] for m in told)
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "cohort.session_removed")
    )
    assert entry.actor_name == "Sam Staff" and entry.course_id == cohort.course_id
    assert when in entry.summary

    learner = app.test_client()
    login(learner, placed)
    ics = learner.get(f"/my-learning/{place.id}/calendar.ics").data
    events = Calendar.from_ical(ics).walk("VEVENT")
    with app.test_request_context():
        assert [str(e["UID"]) for e in events] == [session_uid(first.id), session_uid(last.id)]
    assert [int(e["SEQUENCE"]) for e in events] == [1, 1]
    assert str(events[1]["SUMMARY"]).endswith("(session 2 of 2)")


def test_the_last_session_stays_and_the_page_says_why(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, cohort, staff = setup(
        make_provider, make_course, make_cohort, make_user, session_days=(0,)
    )
    enrolment.enrol(make_user(), cohort.id)
    db.session.commit()
    (only,) = cohort.sessions
    login(client, staff)
    page = client.get(f"/provider/{provider.slug}/cohorts/{cohort.id}").get_data(as_text=True)
    assert "/remove" not in page and "a cohort keeps at least one session" in page

    confirm = client.get(remove_url(provider, cohort, only)).get_data(as_text=True)
    assert "only session" in confirm and "cancel the cohort" in confirm
    assert "Yes, remove the session" not in confirm
    response = client.post(remove_url(provider, cohort, only), data={"csrf_token": csrf(client)})
    assert response.status_code == 422
    assert "only session" in response.get_data(as_text=True)
    db.session.expire_all()
    assert session_ids(cohort) == [only.id]
    assert mails("session_removed") == []


def test_a_session_that_has_begun_stays(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    # sessions three days ago, in four days and in eleven
    provider, cohort, staff = setup(make_provider, make_course, make_cohort, make_user, days=-3)
    past, coming, _ = cohort.sessions
    login(client, staff)
    page = client.get(f"/provider/{provider.slug}/cohorts/{cohort.id}").get_data(as_text=True)
    assert remove_url(provider, cohort, past) not in page
    assert remove_url(provider, cohort, coming) in page

    assert "already begun" in client.get(remove_url(provider, cohort, past)).get_data(as_text=True)
    response = client.post(remove_url(provider, cohort, past), data={"csrf_token": csrf(client)})
    assert response.status_code == 422
    assert "already begun or taken place" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(session_ids(cohort)) == 3


def test_a_cancelled_cohort_keeps_its_sessions(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    login(client, staff)
    client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/cancel",
        data={"csrf_token": csrf(client), "message": ""},
    )
    session = cohort.sessions[1]
    response = client.post(remove_url(provider, cohort, session), data={"csrf_token": csrf(client)})
    assert response.status_code == 422 and "cancelled" in response.get_data(as_text=True)
    db.session.expire_all()
    assert len(session_ids(cohort)) == 3


def test_without_the_csrf_token_nothing_is_removed(
    client, make_provider, make_course, make_cohort, make_user, login
):
    provider, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    login(client, staff)
    response = client.post(remove_url(provider, cohort, cohort.sessions[1]), data={})
    assert response.status_code == 400  # the site-wide CSRF check refuses it first
    db.session.expire_all()
    assert len(session_ids(cohort)) == 3


def test_another_organisations_session_is_not_found(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    other = make_cohort(make_course(provider=make_provider("Provider Y")), session_days=(0, 7))
    theirs = other.sessions[1]
    login(client, staff)
    for url in (
        remove_url(provider, other, theirs),  # their cohort under our organisation
        remove_url(provider, cohort, theirs),  # their session under our cohort
        f"/provider/{provider.slug}/cohorts/{cohort.id}/sessions/999999/remove",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, data={"csrf_token": csrf(client)}).status_code == 404
    db.session.expire_all()
    assert len(session_ids(other)) == 2 and len(session_ids(cohort)) == 3
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action.like("%removed"))) is None
