"""Enrolment rules: places, waitlist, promotion, deadlines, prerequisites, My learning."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from academy.catalogue.models import Cohort, CohortSession
from academy.db_types import utcnow
from academy.enrolment import services
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.formatting import format_date
from academy.mail.models import OutboxMessage


def seats(cohort_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Cohort, cohort_id).seats_taken


def statuses(cohort_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Enrolment.status, func.count())
        .where(Enrolment.cohort_id == cohort_id)
        .group_by(Enrolment.status)
    ).all()
    return dict(rows)


def mails(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def test_enrol_takes_a_seat_then_waitlist_then_promotion(make_course, make_cohort, make_user):
    cohort = make_cohort(make_course(), capacity=1)
    a, b, c = make_user(), make_user(), make_user()
    first = services.enrol(a, cohort.id)
    second = services.enrol(b, cohort.id)
    third = services.enrol(c, cohort.id)
    db.session.commit()
    assert (first.status, second.status, third.status) == ("enrolled", "waitlisted", "waitlisted")
    assert seats(cohort.id) == 1
    assert services.waitlist_positions([second.id, third.id]) == {second.id: 1, third.id: 2}

    services.withdraw(a, first.id, reason="Clash with a shift")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Enrolment, second.id).status == "enrolled"
    assert db.session.get(Enrolment, third.id).status == "waitlisted"
    assert services.waitlist_positions([third.id]) == {third.id: 1}
    assert seats(cohort.id) == 1
    assert [m.to_address for m in mails("promoted")] == [b.email]


def test_twice_after_deadline_and_past_are_refused_and_change_nothing(
    make_course, make_cohort, make_user
):
    course = make_course()
    open_cohort = make_cohort(course, capacity=5)
    past = make_cohort(course, days=-3)
    closing = make_cohort(course, days=10)
    closing.enrolment_closes_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    user = make_user()
    services.enrol(user, open_cohort.id)
    db.session.commit()

    for cohort_id, error, text in (
        (open_cohort.id, services.AlreadyEnrolled, "already have a place"),
        (past.id, services.EnrolmentClosed, "already started"),
        (closing.id, services.EnrolmentClosed, "has closed"),
    ):
        before = (seats(cohort_id), statuses(cohort_id), len(mails("enrolled")))
        with pytest.raises(error, match=text):
            services.enrol(user, cohort_id)
        db.session.rollback()
        assert (seats(cohort_id), statuses(cohort_id), len(mails("enrolled"))) == before


def test_refusals_through_the_web_show_a_clear_message(
    client, login, csrf, make_course, make_cohort, make_user
):
    course = make_course()
    cohort = make_cohort(course, capacity=3)
    user = make_user()
    login(client, user)
    response = client.post(f"/cohorts/{cohort.id}/enrol", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    response = client.post(
        f"/cohorts/{cohort.id}/enrol", data={"csrf_token": csrf(client)}, follow_redirects=True
    )
    assert "You already have a place on this cohort." in response.get_data(as_text=True)
    assert seats(cohort.id) == 1
    # without the CSRF token nothing happens
    other = make_cohort(course, capacity=3)
    assert client.post(f"/cohorts/{other.id}/enrol").status_code == 400
    assert seats(other.id) == 0


def test_capacity_raised_promotes_the_first_waiting(make_course, make_cohort, make_user):
    cohort = make_cohort(make_course(), capacity=1)
    users = [make_user() for _ in range(3)]
    rows = [services.enrol(u, cohort.id) for u in users]
    db.session.commit()
    cohort.capacity = 2
    db.session.commit()
    promoted = services.promote_waitlisted(cohort)
    db.session.commit()
    assert [e.id for e in promoted] == [rows[1].id]
    assert seats(cohort.id) == 2


def test_prerequisites_missing_then_request_a_place(make_course, make_cohort, make_user):
    basic = make_course("MBT Basic")
    practitioner = make_course("MBT Practitioner")
    practitioner.prerequisites.append(basic)
    db.session.commit()
    cohort = make_cohort(practitioner, capacity=2)
    user = make_user()
    with pytest.raises(services.PrerequisitesMissing) as caught:
        services.enrol(user, cohort.id)
    assert [c.title for c in caught.value.missing] == ["MBT Basic"]
    db.session.rollback()
    request = services.request_place(user, cohort.id, reason="Five years of MBT-informed work")
    db.session.commit()
    assert request.status == "requested" and seats(cohort.id) == 0

    # completing the prerequisite lets the learner enrol directly
    other = make_user()
    done = services.enrol(other, make_cohort(basic).id)
    services.record_completion(done)
    db.session.commit()
    assert services.enrol(other, cohort.id).status == "enrolled"


def test_withdraw_is_refused_once_the_cohort_started(make_course, make_cohort, make_user):
    cohort = make_cohort(make_course(), capacity=2)
    user = make_user()
    enrolment = services.enrol(user, cohort.id)
    db.session.commit()
    cohort.sessions[0].starts_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    with pytest.raises(services.NotAllowed, match="has started"):
        services.withdraw(user, enrolment.id)
    db.session.rollback()
    assert seats(cohort.id) == 1


def test_leaving_the_waitlist_and_joining_again(make_course, make_cohort, make_user):
    cohort = make_cohort(make_course(), capacity=1)
    a, b = make_user(), make_user()
    services.enrol(a, cohort.id)
    waiting = services.enrol(b, cohort.id)
    db.session.commit()
    services.withdraw(b, waiting.id)
    db.session.commit()
    assert statuses(cohort.id) == {"enrolled": 1, "withdrawn": 1}
    again = services.enrol(b, cohort.id)
    db.session.commit()
    assert again.id == waiting.id and again.status == "waitlisted"


def test_my_learning_shows_every_state_in_a_fixed_number_of_queries(
    client, login, make_course, make_cohort, make_user, count_queries
):
    user = make_user()
    other = make_user()
    counts = []
    for round_ in range(2):
        for _ in range(3):
            full = make_cohort(make_course(), capacity=1)
            services.enrol(other, full.id)
            services.enrol(user, full.id)
            services.enrol(user, make_cohort(make_course(), capacity=4).id)
            gone = services.enrol(user, make_cohort(make_course()).id)
            services.withdraw(user, gone.id)
        db.session.commit()
        login(client, user)
        with count_queries() as counter:
            response = client.get("/my-learning")
        assert response.status_code == 200, (round_, response.headers.get("Location"))
        counts.append(counter.count)
    assert counts[0] == counts[1]
    # the session's account with its memberships, the places (with their cohorts' dates),
    # waitlist positions and the record entries; nothing reads the account again after the commit
    assert counts[0] <= 4, counter.statements
    page = response.get_data(as_text=True)
    assert "You are number 1 on the waitlist." in page
    assert "You have a place." in page and "You withdrew" in page


def test_my_learning_reads_each_cohorts_dates_from_its_sessions_on_every_request(
    client, login, make_course, make_cohort, make_user
):
    """The page's places are plain rows read on each request (no cache): a cohort's first
    start and last end come from its sessions as they are now."""
    user = make_user()
    cohort = make_cohort(make_course(title="Dates from sessions"), days=10, session_days=(0, 7))
    services.enrol(user, cohort.id)
    db.session.commit()
    login(client, user)
    first, last = cohort.starts_at, cohort.ends_at

    def upcoming_section() -> str:
        page = client.get("/my-learning").get_data(as_text=True)
        return page.split('id="upcoming-heading"', 1)[1].split("</section>", 1)[0]

    section = upcoming_section()
    assert "Dates from sessions" in section and f"starts {format_date(first)}" in section
    assert "You have a place." in section

    # an earlier session added: the card starts then
    earlier = first - timedelta(days=3)
    cohort.sessions.append(CohortSession(starts_at=earlier, ends_at=earlier + timedelta(hours=2)))
    db.session.commit()
    assert f"starts {format_date(earlier)}" in upcoming_section()

    # every session moved into the past: the place has finished (its last end has passed)
    for session in cohort.sessions:
        session.starts_at -= timedelta(days=60)
        session.ends_at -= timedelta(days=60)
    db.session.commit()
    assert last - timedelta(days=60) < utcnow()
    section = upcoming_section()
    assert "No upcoming places." in section and "Finished." in section


def test_course_page_buttons_match_each_cohort_state(
    client, login, make_course, make_cohort, make_user
):
    course = make_course(slug="kuf-awareness")
    open_ = make_cohort(course, days=10, capacity=2)
    full = make_cohort(course, days=20, capacity=1, seats_taken=1)
    closed = make_cohort(course, days=30, capacity=2)
    closed.enrolment_closes_at = utcnow() - timedelta(hours=1)
    mine = make_cohort(course, days=40, capacity=2)
    db.session.commit()

    def card(page: str, cohort) -> str:
        start = page.index(f'id="cohort-{cohort.id}"')
        return page[start : page.index("</section>", start)]

    anonymous = client.get("/courses/kuf-awareness").get_data(as_text=True)
    assert "Log in to enrol" in card(anonymous, open_)
    assert "Log in to join the waitlist" in card(anonymous, full)
    assert "has closed" in card(anonymous, closed)

    user = make_user()
    services.enrol(user, mine.id)
    db.session.commit()
    login(client, user)
    page = client.get("/courses/kuf-awareness").get_data(as_text=True)
    assert ">Enrol<" in card(page, open_) and "waitlist" not in card(page, open_)
    assert "Join the waitlist" in card(page, full) and ">Enrol<" not in card(page, full)
    assert "has closed" in card(page, closed) and "<button" not in card(page, closed)
    assert "You have a place on this cohort." in card(page, mine)
    assert "<button" not in card(page, mine)

    advanced = make_course(slug="kuf-advanced")
    advanced.prerequisites.append(course)
    db.session.commit()
    cohort = make_cohort(advanced, capacity=2)
    page = client.get("/courses/kuf-advanced").get_data(as_text=True)
    assert "Request a place" in card(page, cohort) and ">Enrol<" not in card(page, cohort)
    assert client.get(f"/cohorts/{cohort.id}/request").status_code == 200
