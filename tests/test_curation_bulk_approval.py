"""Bulk approval is set-based (``academy.catalogue.approval``): it must leave exactly what
approving each course alone leaves (rows, remembered versions, audit, search outbox), take a
course only from a state the table of moves lets it be approved from, never approve a course
another curator decided meanwhile, and read a fixed number of times whatever the number."""

from __future__ import annotations

import json

from sqlalchemy import select

from academy.audit import AuditEntry
from academy.catalogue import approval, states
from academy.catalogue.models import Course
from academy.curation import services as curation
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers import courses as course_services
from academy.search.models import SearchOutbox
from tests.test_publishing import values_of


def _a_mixed_queue(provider, staff, curator, make_course, taxonomy) -> list[Course]:
    """Waiting courses of every kind: a first submission, a resubmission of a course once
    approved, an edit of a published course (text, terms, lists, fee, prerequisite) and an
    edit sent again after a refusal."""
    base = make_course("Foundations", provider=provider, reference="R0", sectors=("education",))
    new = make_course(
        "A new listing", provider=provider, reference="R1", status="draft", sectors=("education",)
    )
    course_services.submit_course(staff, new)
    again = make_course("Once approved", provider=provider, reference="R2", status="draft")
    course_services.submit_course(staff, again)
    curation.approve(curator, again)
    curation.unpublish(curator, again, "Out of date.")
    course_services.update_course(staff, again, values_of(again, summary="Brought up to date."))
    course_services.submit_course(staff, again)
    edited = make_course("Live course", provider=provider, reference="R3", summary="Live words.")
    step3 = next(t for t in taxonomy["steps"].values() if t.number == 3)
    sectors = list(taxonomy["sectors"].values())[:2]
    course_services.update_course(
        staff,
        edited,
        values_of(
            edited,
            title="Live course, renamed",
            step=step3,
            region=None,
            sectors=sectors,
            prerequisites=[base],
            cost_type="fee",
            fee_pence=4500,
        ),
    )
    refused = make_course("Refused edit", provider=provider, reference="R4")
    course_services.update_course(staff, refused, values_of(refused, summary="First try."))
    curation.reject(curator, refused, "Not yet.")
    course_services.update_course(staff, refused, values_of(refused, summary="Second try."))
    db.session.commit()
    return [new, again, edited, refused]


def _state(course: Course) -> dict:
    approved = course_services.approved(course)
    detail = db.session.scalars(
        select(AuditEntry.detail)
        .where(AuditEntry.course_id == course.id, AuditEntry.action == "course.approved")
        .order_by(AuditEntry.id.desc())
    ).first()
    return {
        "status": course.status,
        "state": states.state_of(course),
        "live": course_services.snapshot(course),
        "approved": course_services.named(approved) if approved else None,
        "pending": course.pending_edit,
        "waiting": course.review_requested_at,
        "reason": course.rejection_reason,
        "published": course.published_at is not None,
        "audit": json.loads(detail),
    }


def test_a_bulk_approval_leaves_what_approving_each_course_leaves(
    make_provider, make_course, make_user, taxonomy
):
    curator = make_user("cara@academy.example", name="Cara Curator", curator=True)
    one, bulk = (make_provider(f"Trust {n}", verified_at=utcnow()) for n in "AB")
    staff_one = make_user("staff@a.example", staff_of=one, admin=True)
    staff_bulk = make_user("staff@b.example", staff_of=bulk, admin=True)
    singly = _a_mixed_queue(one, staff_one, curator, make_course, taxonomy)
    together = _a_mixed_queue(bulk, staff_bulk, curator, make_course, taxonomy)
    for course in singly:
        curation.approve(curator, course)
    db.session.query(SearchOutbox).delete()
    result = curation.bulk_decide(
        curator, "approve", None, curation.QueueFilter(provider_id=bulk.id)
    )
    db.session.commit()
    assert (result.done, result.skipped) == (4, 0)
    db.session.expire_all()
    for alone, bulked in zip(singly, together, strict=True):
        assert _state(bulked) == _state(alone), alone.title
    assert set(db.session.scalars(select(SearchOutbox.entity_id))) == {c.id for c in together}
    assert {c.title for c in together} >= {"Live course, renamed"}


def test_every_state_a_course_can_be_approved_from_has_its_claim():
    approvable = {state for state, action in states.TRANSITIONS if action == "approve"}
    assert approvable == set(approval.CLAIMS)


def test_a_course_another_curator_decided_meanwhile_is_not_approved_again(
    make_provider, make_course, make_user, taxonomy
):
    provider = make_provider("Trust", verified_at=utcnow())
    staff = make_user("staff@t.example", staff_of=provider, admin=True)
    dev = make_user("dev@academy.example", name="Dev", curator=True)
    courses = [make_course(f"Course {n}", provider=provider, status="draft") for n in range(4)]
    for course in courses:
        course_services.submit_course(staff, course)
    db.session.commit()
    rows = approval.waiting_rows(curation.QueueFilter(provider_id=provider.id).where())
    assert len(rows) == 4
    curation.reject(dev, courses[0], "Not this one.")  # decided between the read and the write
    curation.approve(dev, courses[1])
    db.session.flush()
    won = approval.approve(rows, utcnow())
    assert sorted(c.id for c in won) == sorted(c.id for c in courses[2:])
    db.session.commit()
    db.session.expire_all()
    assert [c.status for c in courses] == ["rejected", "published", "published", "published"]
    approvals = db.session.scalars(
        select(AuditEntry.actor_id).where(
            AuditEntry.action == "course.approved", AuditEntry.course_id == courses[1].id
        )
    ).all()
    assert approvals == [dev.id]


def test_a_bulk_approval_reads_a_fixed_number_of_times(
    make_provider, make_course, make_user, count_queries
):
    curator = make_user("cara@academy.example", curator=True)
    counts = []
    for number in (3, 30):
        provider = make_provider(verified_at=utcnow())
        staff = make_user(f"staff{number}@t.example", staff_of=provider, admin=True)
        for n in range(number):
            course = make_course(f"Course {n}", provider=provider, status="draft")
            course_services.submit_course(staff, course)
        db.session.commit()
        with count_queries() as counter:
            curation.bulk_decide(curator, "approve", None, curation.QueueFilter(provider.id))
        db.session.commit()
        counts.append(len(counter.statements))
    assert counts[0] == counts[1]
