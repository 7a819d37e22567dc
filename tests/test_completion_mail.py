"""A learner hears when a provider records or withdraws their completion (unless they opted
out), and an undone mark sends its own message, not a second one."""

from __future__ import annotations

from sqlalchemy import select

from academy.enrolment import services as enrolment_services
from academy.extensions import db
from academy.mail.models import OutboxMessage
from academy.mail.preferences import choose
from academy.providers import cohorts


def kinds_to(address: str) -> list[str]:
    return list(
        db.session.scalars(
            select(OutboxMessage.kind)
            .where(OutboxMessage.to_address == address)
            .order_by(OutboxMessage.id)
        )
    )


def a_place(make_user, make_provider, make_course, make_cohort):
    provider = make_provider("Leeds Trust")
    staff = make_user(staff_of=provider, admin=True)
    cohort = make_cohort(make_course("MBT Basic", provider=provider))
    learner = make_user()
    enrolment = enrolment_services.enrol(learner, cohort.id)
    db.session.commit()
    return staff, cohort, learner, enrolment


def test_recorded_and_withdrawn_completions_are_mailed(
    make_user, make_provider, make_course, make_cohort
):
    staff, cohort, learner, enrolment = a_place(make_user, make_provider, make_course, make_cohort)
    before = len(kinds_to(learner.email))
    cohorts.mark(staff, cohort, [enrolment.id], "completed", now=cohort.starts_at)
    cohorts.mark(staff, cohort, [enrolment.id], "not_completed", now=cohort.starts_at)
    db.session.commit()
    sent = kinds_to(learner.email)[before:]
    assert sent == ["completion_recorded", "completion_withdrawn"]
    body = db.session.scalars(
        select(OutboxMessage.body).where(OutboxMessage.kind == "completion_recorded")
    ).one()
    assert "MBT Basic" in body and "/portfolio" in body


def test_no_completion_mail_for_someone_who_opted_out(
    make_user, make_provider, make_course, make_cohort
):
    staff, cohort, learner, enrolment = a_place(make_user, make_provider, make_course, make_cohort)
    choose(learner, {"completions": False})
    db.session.commit()
    before = len(kinds_to(learner.email))
    cohorts.mark(staff, cohort, [enrolment.id], "completed", now=cohort.starts_at)
    db.session.commit()
    assert kinds_to(learner.email)[before:] == []


def test_an_undone_mark_sends_one_message(make_user, make_provider, make_course, make_cohort):
    staff, cohort, learner, enrolment = a_place(make_user, make_provider, make_course, make_cohort)
    cohorts.mark(staff, cohort, [enrolment.id], "completed", now=cohort.starts_at)
    db.session.commit()
    before = len(kinds_to(learner.email))
    cohorts.undo_mark(staff, cohort, enrolment.id, now=cohort.starts_at)
    db.session.commit()
    assert kinds_to(learner.email)[before:] == ["mark_undone"]


def test_a_provider_allows_repeat_places_at_once_and_it_is_audited(
    client, login, csrf, make_user, make_provider, make_course
):
    from academy.audit import AuditEntry

    provider = make_provider("Leeds Trust")
    staff = make_user(staff_of=provider, admin=True)
    course = make_course("MBT Refresher", provider=provider)
    login(client, staff)
    url = f"/provider/{provider.slug}/courses/{course.id}/repeats"
    response = client.post(
        url, data={"csrf_token": csrf(client), "allow_repeats": "y"}, follow_redirects=True
    )
    assert "may now take this course more than once" in response.get_data(as_text=True)
    db.session.expire_all()
    assert course.allow_repeats is True
    assert db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.course_id == course.id)
    ).all() == ["course.repeats"]
    client.post(url, data={"csrf_token": csrf(client)})
    db.session.expire_all()
    assert course.allow_repeats is False
