"""Cohorts for the provider: capacity, dates, cancelling, requests, and running a cohort."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from academy.catalogue.models import Cohort
from academy.enrolment import services as enrolment
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.mail.models import OutboxMessage
from academy.portfolio.models import LearningRecordEntry


def mails(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def setup(make_provider, make_course, make_cohort, make_user, capacity=2, **course_fields):
    provider = make_provider("Provider X")
    course = make_course("KUF Awareness", provider=provider, **course_fields)
    cohort = make_cohort(course, capacity=capacity, session_days=(0, 7))
    staff = make_user(name="Sam Staff", staff_of=provider)
    return provider, course, cohort, staff


def time_passes(cohort, days: float = 40) -> None:
    """Move the cohort's sessions ``days`` into the past, as if time had passed since learners
    enrolled (marks wait for the sessions)."""
    for session in cohort.sessions:
        session.starts_at -= timedelta(days=days)
        session.ends_at -= timedelta(days=days)
    db.session.commit()


def cohort_form(**overrides):
    data = {"capacity": "2", "location": "Training room 1, Leeds", "closes_on": ""}
    data.update(overrides)
    return data


def test_adding_a_cohort_with_its_first_session(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, course, _, staff = setup(make_provider, make_course, make_cohort, make_user)
    login(client, staff)
    response = client.post(
        f"/provider/{provider.slug}/courses/{course.id}/cohorts/new",
        data={
            **cohort_form(capacity="12"),
            "date": "2027-03-14",
            "start_time": "09:30",
            "end_time": "16:30",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 303
    cohort = db.session.scalars(select(Cohort).order_by(Cohort.id.desc())).first()
    assert cohort.capacity == 12
    # 09:30 in London in March (GMT) is 09:30 UTC
    assert cohort.sessions[0].starts_at.hour == 9 and cohort.sessions[0].starts_at.minute == 30


def test_capacity_below_places_taken_is_refused(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user, 3)
    for _ in range(2):
        enrolment.enrol(make_user(), cohort.id)
    db.session.commit()
    login(client, staff)
    response = client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/edit",
        data={**cohort_form(capacity="1"), "csrf_token": csrf(client)},
    )
    assert response.status_code == 422
    assert "cannot be less than 2" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).capacity == 3


def test_raising_capacity_promotes_from_the_waitlist(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user, 1)
    enrolment.enrol(make_user(), cohort.id)
    waiting = [enrolment.enrol(make_user(), cohort.id) for _ in range(2)]
    db.session.commit()
    login(client, staff)
    client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/edit",
        data={**cohort_form(capacity="2"), "csrf_token": csrf(client)},
    )
    db.session.expire_all()
    assert [db.session.get(Enrolment, e.id).status for e in waiting] == ["enrolled", "waitlisted"]
    assert db.session.get(Cohort, cohort.id).seats_taken == 2
    assert len(mails("promoted")) == 1


def test_a_date_change_raises_the_sequence_and_mails_learners(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    learner = make_user()
    place = enrolment.enrol(learner, cohort.id)
    db.session.commit()
    session = cohort.sessions[1]
    moved = (session.starts_at + timedelta(days=2)).astimezone()
    login(client, staff)
    response = client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/sessions/{session.id}",
        data={
            "date": moved.date().isoformat(),
            "start_time": "10:00",
            "end_time": "15:00",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert [s.sequence for s in db.session.get(Cohort, cohort.id).sessions] == [0, 1]
    assert [m.to_address for m in mails("session_changed")] == [learner.email]
    learner_client = client.application.test_client()
    login(learner_client, learner)
    ics = learner_client.get(f"/my-learning/{place.id}/calendar.ics").get_data(as_text=True)
    assert "SEQUENCE:1" in ics


def test_cancelling_tells_everyone_and_marks_enrolments_cancelled(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user, 1)
    people = [make_user() for _ in range(2)]
    rows = [enrolment.enrol(p, cohort.id) for p in people]
    db.session.commit()
    login(client, staff)
    url = f"/provider/{provider.slug}/cohorts/{cohort.id}/cancel"
    assert "Yes, cancel the cohort" in client.get(url).get_data(as_text=True)
    client.post(url, data={"csrf_token": csrf(client), "message": "Sorry: trainer unwell."})
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).is_cancelled
    assert {db.session.get(Enrolment, e.id).status for e in rows} == {"cancelled"}
    told = mails("cohort_cancelled")
    assert sorted(m.to_address for m in told) == sorted(p.email for p in people)
    assert all("trainer unwell" in m.body for m in told)
    try:
        enrolment.enrol(make_user(), cohort.id)
    except enrolment.EnrolmentClosed:
        pass
    else:
        raise AssertionError("a cancelled cohort took an enrolment")


def test_deciding_requests_with_a_message(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider = make_provider()
    first = make_course("MBT Basic", provider=make_provider())
    course = make_course("MBT Practitioner", provider=provider, prerequisites=[first])
    cohort = make_cohort(course)
    staff = make_user(staff_of=provider)
    yes, no = make_user(), make_user()
    asked = [
        enrolment.request_place(u, cohort.id, reason="Ten years of practice.") for u in (yes, no)
    ]
    db.session.commit()
    login(client, staff)
    page = client.get(f"/provider/{provider.slug}/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Ten years of practice." in page
    base = f"/provider/{provider.slug}/cohorts/{cohort.id}/requests"
    client.post(f"{base}/{asked[0].id}", data={"decision": "accept", "csrf_token": csrf(client)})
    client.post(
        f"{base}/{asked[1].id}",
        data={
            "decision": "decline",
            "message": "Try MBT Basic in May.",
            "csrf_token": csrf(client),
        },
    )
    db.session.expire_all()
    assert db.session.get(Enrolment, asked[0].id).status == "enrolled"
    assert db.session.get(Enrolment, asked[1].id).status == "declined"
    assert "Try MBT Basic in May." in mails("declined")[0].body


def test_completions_become_verified_records_and_corrections_are_kept(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, course, cohort, staff = setup(
        make_provider, make_course, make_cohort, make_user, 3, cpd_hours=18.0
    )
    learners = [make_user(name=f"Learner {n}") for n in range(3)]
    places = [enrolment.enrol(u, cohort.id) for u in learners]
    db.session.commit()
    time_passes(cohort)
    login(client, staff)
    url = f"/provider/{provider.slug}/cohorts/{cohort.id}/marks"
    client.post(url, data={"outcome": "completed", "all": "1", "csrf_token": csrf(client)})
    db.session.expire_all()
    assert {db.session.get(Enrolment, e.id).status for e in places} == {"completed"}
    records = db.session.scalars(select(LearningRecordEntry)).all()
    assert len(records) == 3
    assert all(
        r.verified
        and r.provider_name == "Provider X"
        and r.confirmed_by_name == "Sam Staff"
        and r.hours == 18.0
        for r in records
    )
    # one was a mistake: corrected, and the correction is kept
    client.post(
        url,
        data={
            "outcome": "not_completed",
            "enrolment": str(places[0].id),
            "note": "Missed day three.",
            "csrf_token": csrf(client),
        },
    )
    db.session.expire_all()
    assert db.session.get(Enrolment, places[0].id).status == "not_completed"
    record = db.session.scalar(
        select(LearningRecordEntry).where(LearningRecordEntry.enrolment_id == places[0].id)
    )
    assert record.withdrawn_at is not None and record.correction_note == "Missed day three."
    assert record.corrected_by_name == "Sam Staff"

    learner = client.application.test_client()
    login(learner, learners[1])
    page = learner.get("/my-learning").get_data(as_text=True)
    assert "Verified completion" in page and "Confirmed by Sam Staff of Provider X" in page


def test_attendance_one_by_one_and_the_csv_export(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user, 3)
    a = make_user(name="=HYPERLINK(1)", email="a@example.org")
    place = enrolment.enrol(a, cohort.id, access_needs="Hearing loop")
    enrolment.enrol(make_user(email="b@example.org"), cohort.id)
    db.session.commit()
    time_passes(cohort)
    login(client, staff)
    client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/marks",
        data={"outcome": "attended", "enrolment": str(place.id), "csrf_token": csrf(client)},
    )
    response = client.get(f"/provider/{provider.slug}/cohorts/{cohort.id}/learners.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    by_email = {r["email"]: r for r in rows}
    assert by_email["a@example.org"]["attended"] == "yes"
    assert by_email["a@example.org"]["access_needs"] == "Hearing loop"
    assert by_email["a@example.org"]["name"] == "'=HYPERLINK(1)"
    assert by_email["b@example.org"]["attended"] == ""


def test_the_cohort_page_costs_a_fixed_number_of_queries(
    client, make_provider, make_course, make_cohort, make_user, login, count_queries
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user, 50)
    login(client, staff)
    enrolment.enrol(make_user(), cohort.id)
    db.session.commit()

    def cost():
        with count_queries() as counter:
            assert client.get(f"/provider/{provider.slug}/cohorts/{cohort.id}").status_code == 200
        return counter.count

    few = cost()
    for _ in range(6):
        enrolment.enrol(make_user(), cohort.id)
    db.session.commit()
    assert cost() == few
