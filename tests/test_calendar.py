"""Calendar files parse, keep their UIDs and raise SEQUENCE when a date changes."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from academy.enrolment import services
from academy.extensions import db


def events(body: bytes):
    return [c for c in Calendar.from_ical(body).walk("VEVENT")]


def test_ics_per_enrolment_and_feed_follow_date_changes(
    client, login, make_course, make_cohort, make_user
):
    course = make_course("Open Dialogue foundation")
    cohort = make_cohort(course, session_days=(0, 7, 14), capacity=4)
    user = make_user()
    enrolment = services.enrol(user, cohort.id)
    db.session.commit()
    login(client, user)

    response = client.get(f"/my-learning/{enrolment.id}/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    before = events(response.data)
    assert len(before) == 3
    assert len({str(e["UID"]) for e in before}) == 3
    assert all(int(e["SEQUENCE"]) == 0 for e in before)
    assert before[0]["SUMMARY"] == "Open Dialogue foundation (session 1 of 3)"

    session = cohort.sessions[1]
    services.reschedule_session(
        session, session.starts_at + timedelta(days=1), session.ends_at + timedelta(days=1)
    )
    db.session.commit()

    after = events(client.get(f"/my-learning/{enrolment.id}/calendar.ics").data)
    assert [str(e["UID"]) for e in after] == [str(e["UID"]) for e in before]
    assert [int(e["SEQUENCE"]) for e in after] == [0, 1, 0]
    assert after[1].decoded("DTSTART") == before[1].decoded("DTSTART") + timedelta(days=1)

    feed = client.get(f"/calendar/{user.calendar_token}.ics")
    assert feed.status_code == 200
    assert [str(e["UID"]) for e in events(feed.data)] == [str(e["UID"]) for e in after]


def test_feed_token_can_be_reset(client, login, csrf, make_user):
    user = make_user()
    old = user.calendar_token
    assert client.get(f"/calendar/{old}.ics").status_code == 200
    login(client, user)
    client.post("/account/calendar-address", data={"csrf_token": csrf(client)})
    db.session.refresh(user)
    assert user.calendar_token != old
    assert client.get(f"/calendar/{old}.ics").status_code == 404
    assert client.get(f"/calendar/{user.calendar_token}.ics").status_code == 200
