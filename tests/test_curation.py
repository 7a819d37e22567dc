"""Curators: the review queue, approve / reject / unpublish, verification, taxonomy, audit log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from academy.audit import AuditEntry
from academy.catalogue.models import Course
from academy.curation import services
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers import courses as course_services
from academy.taxonomy.models import Sector


def submitted(make_course, provider, title, waited_days):
    course = make_course(title, provider=provider, status="submitted")
    course.review_requested_at = utcnow() - timedelta(days=waited_days)
    db.session.commit()
    return course


def test_the_queue_is_oldest_first(client, make_provider, make_course, make_user, login):
    provider = make_provider(verified_at=utcnow())
    submitted(make_course, provider, "Newest", 1)
    submitted(make_course, provider, "Oldest", 5)
    submitted(make_course, provider, "Middle", 3)
    make_course("Already published", provider=provider)
    assert [c.title for c in services.review_queue()] == ["Oldest", "Middle", "Newest"]
    login(client, make_user(curator=True))
    page = client.get("/curation").get_data(as_text=True)
    assert page.index("Oldest") < page.index("Middle") < page.index("Newest")
    assert "Already published" not in page


def test_an_unverified_provider_cannot_be_published_until_verified(
    client, make_provider, make_course, make_user, login, csrf
):
    provider = make_provider("New Trust")
    course = submitted(make_course, provider, "Waiting", 1)
    curator = make_user(curator=True)
    login(client, curator)
    token = csrf(client)
    client.post(f"/curation/courses/{course.id}/approve", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "submitted"
    assert (
        client.post(
            f"/curation/providers/{provider.id}/verify", data={"csrf_token": token}
        ).status_code
        == 303
    )
    client.post(f"/curation/courses/{course.id}/approve", data={"csrf_token": token})
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.status == "published" and course.review_requested_at is None
    assert client.get(f"/courses/{course.slug}").status_code == 200
    log = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id) for e in log] == [
        ("provider.verified", curator.id),
        ("course.approved", curator.id),
    ]


def test_reject_needs_a_reason_the_provider_then_sees(
    client, app, make_provider, make_course, make_user, login, csrf
):
    provider = make_provider(verified_at=utcnow())
    course = submitted(make_course, provider, "Needs work", 1)
    login(client, make_user(curator=True))
    empty = client.post(f"/curation/courses/{course.id}/reject", data={"csrf_token": csrf(client)})
    assert empty.status_code == 422 and "Say why" in empty.get_data(as_text=True)
    client.post(
        f"/curation/courses/{course.id}/reject",
        data={"csrf_token": csrf(client), "reason": "Add the dates of the online modules."},
    )
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "rejected"
    staff = app.test_client()
    login(staff, make_user(staff_of=provider))
    page = staff.get(f"/provider/{provider.slug}/courses/{course.id}").get_data(as_text=True)
    assert "Add the dates of the online modules." in page
    # the provider edits and resubmits
    staff.post(
        f"/provider/{provider.slug}/courses/{course.id}/submit", data={"csrf_token": csrf(staff)}
    )
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "submitted"


def test_editing_a_published_course_keeps_it_public_and_shows_curators_the_change(
    client, ctx, make_provider, make_course, make_user, login
):
    provider = make_provider(verified_at=utcnow())
    course = submitted(make_course, provider, "Open Dialogue foundation", 1)
    curator, staff = make_user(curator=True), make_user(staff_of=provider)
    services.approve(curator, course)
    db.session.commit()
    values = {name: getattr(course, name) for name in course_services.EDITABLE}
    values["summary"] = "Now with a peer-support strand."
    changes = course_services.update_course(staff, course, values)
    db.session.commit()
    assert changes == {"summary": ["", "Now with a peer-support strand."]}
    assert course.status == "published" and course.state == "edit_pending"
    assert course.summary == ""  # the live (public) version is the approved one
    assert services.review_queue().items == [course]
    login(client, curator)
    page = client.get(f"/curation/courses/{course.id}").get_data(as_text=True)
    assert "What the edit changes on the live course" in page
    assert "Now with a peer-support strand." in page and "Description" not in page
    services.approve(curator, course)
    db.session.commit()
    assert course.summary == "Now with a peer-support strand." and course.pending_edit is None
    assert services.review_queue().items == []
    assert course_services.changes_since_approval(course) == {}


def test_unpublish_takes_a_course_out_with_a_reason(
    client, make_provider, make_course, make_user, login, csrf
):
    course = make_course("Outdated", provider=make_provider(verified_at=utcnow()))
    login(client, make_user(curator=True))
    client.post(
        f"/curation/courses/{course.id}/unpublish",
        data={"csrf_token": csrf(client), "reason": "The trainer has retired."},
    )
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.status == "rejected" and course.rejection_reason == "The trainer has retired."
    assert client.get(f"/courses/{course.slug}").status_code == 404


def test_taxonomy_add_rename_retire_keep_slugs(
    client, taxonomy, make_course, make_user, login, csrf
):
    education = taxonomy["sectors"]["education"]
    course = make_course(sectors=("education",))
    login(client, make_user(curator=True))
    token = csrf(client)
    client.post("/curation/taxonomy/sectors", data={"csrf_token": token, "name": "Green care"})
    assert db.session.scalar(select(Sector).where(Sector.slug == "green-care")) is not None
    client.post(
        f"/curation/taxonomy/sectors/{education.id}",
        data={"csrf_token": token, "action": "rename", "name": "Schools and colleges"},
    )
    client.post(
        f"/curation/taxonomy/sectors/{education.id}",
        data={"csrf_token": token, "action": "retire"},
    )
    db.session.expire_all()
    education = db.session.get(Sector, education.id)
    assert education.slug == "education" and education.name == "Schools and colleges"
    assert education.is_retired
    assert [s.slug for s in db.session.get(Course, course.id).sectors] == ["education"]
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["taxonomy.added", "taxonomy.renamed", "taxonomy.retired"]


def test_steps_are_fixed(ctx, taxonomy, make_user):
    curator = make_user(curator=True)
    for call in (
        lambda: services.add_term(curator, "steps", "Step five"),
        lambda: services.retire_term(curator, "steps", taxonomy["steps"]["awareness"].id),
    ):
        try:
            call()
        except services.CurationError:
            pass
        else:
            raise AssertionError("a step was added or retired")


def test_the_audit_log_filters_by_person_provider_course_and_date(
    client, make_provider, make_course, make_user, login
):
    x, y = make_provider("Provider X"), make_provider("Provider Y")
    curator, other = make_user(curator=True, name="Cara Curator"), make_user(curator=True)
    services.verify_provider(curator, x)
    services.verify_provider(other, y)
    course = submitted(make_course, x, "Course of X", 1)
    services.approve(curator, course)
    old = AuditEntry(
        action="provider.verified", summary="Long ago", at=utcnow() - timedelta(days=40)
    )
    db.session.add(old)
    db.session.commit()
    login(client, curator)

    def summaries(query: str) -> list[str]:
        page = client.get(f"/curation/audit?{query}").get_data(as_text=True)
        return [
            s
            for s in ("Verified Provider X", "Verified Provider Y", "Approved", "Long ago")
            if s in page
        ]

    assert summaries("") == ["Verified Provider X", "Verified Provider Y", "Approved", "Long ago"]
    assert summaries(f"person={curator.id}") == ["Verified Provider X", "Approved"]
    assert summaries(f"provider={x.id}") == ["Verified Provider X", "Approved"]
    assert summaries(f"course={course.id}") == ["Approved"]
    since = (utcnow() - timedelta(days=1)).date().isoformat()
    assert "Long ago" not in summaries(f"since={since}")
    until = (utcnow() - timedelta(days=30)).date().isoformat()
    assert summaries(f"until={until}") == ["Long ago"]


def test_a_course_submitted_by_import_or_seed_reaches_the_queue_and_can_be_approved(
    client, make_provider, make_course, make_user, login, csrf
):
    # status "submitted" written directly (the seed, `flask courses import`), not via the editor
    course = make_course("Arrived by import", status="submitted",
                         provider=make_provider(verified_at=utcnow()))  # fmt: skip
    assert course.review_requested_at is None
    login(client, make_user(curator=True))
    assert "Arrived by import" in client.get("/curation").get_data(as_text=True)
    page = client.get(f"/curation/courses/{course.id}").get_data(as_text=True)
    assert "Approve and publish" in page
    response = client.post(
        f"/curation/courses/{course.id}/approve", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 303
    db.session.refresh(course)
    assert course.status == "published"
    assert "Nothing is waiting for review." in client.get("/curation").get_data(as_text=True)
