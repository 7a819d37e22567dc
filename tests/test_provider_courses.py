"""The course editor: every field, prerequisites across providers, preview, submit, and the
rule that a provider can never publish its own course."""

from __future__ import annotations

from sqlalchemy import select

from academy.audit import AuditEntry
from academy.catalogue.models import Course
from academy.db_types import utcnow
from academy.extensions import db


def course_form(taxonomy, **overrides):
    data = {
        "reference": "KUF-AW-01",
        "title": "Working with personality disorder: awareness",
        "summary": "Three days for all frontline staff.",
        "description": "Co-delivered by two trainers.",
        "who_its_for": "Everyone in prisons and probation.",
        "entry_requirements": "None.",
        "where_next": "The BSc-level modules.",
        "step": str(taxonomy["steps"]["awareness"].id),
        "delivery_mode": str(taxonomy["delivery_modes"]["in-person"].id),
        "region": str(taxonomy["regions"]["london"].id),
        "sectors": [str(taxonomy["sectors"]["criminal-justice"].id)],
        "principles": [str(next(iter(taxonomy["principles"].values())).id)],
        "duration_hours": "21",
        "cpd_hours": "18.5",
        "credits": "15",
        "credit_level": "RQF 6",
        "cost_type": "fee",
        "fee": "120.50",
        "lived_experience_codelivery": "y",
        "external_url": "https://example.org/kuf",
    }
    data.update(overrides)
    return data


def test_creating_a_course_sets_every_field_and_ignores_a_posted_status(
    client, taxonomy, make_provider, make_course, make_user, login, csrf
):
    provider = make_provider(verified_at=utcnow())
    other = make_course("MBT Basic", provider=make_provider())  # another provider's, published
    login(client, make_user(staff_of=provider))
    data = course_form(taxonomy, prerequisites=[str(other.id)], status="published")
    response = client.post(
        f"/provider/{provider.slug}/courses/new", data={**data, "csrf_token": csrf(client)}
    )
    assert response.status_code == 303
    course = db.session.scalar(select(Course).where(Course.reference == "KUF-AW-01"))
    assert course.status == "draft" and course.published_at is None
    assert course.provider_id == provider.id
    assert course.fee_pence == 12050 and course.cost_type == "fee"
    assert course.cpd_hours == 18.5 and course.credits == 15 and course.credit_level == "RQF 6"
    assert course.lived_experience_codelivery and course.step.slug == "awareness"
    assert [s.slug for s in course.sectors] == ["criminal-justice"]
    assert course.prerequisites == [other]
    entry = db.session.scalar(select(AuditEntry))
    assert entry.action == "course.created" and entry.course_id == course.id


def test_a_refused_form_keeps_the_typed_values(
    client, taxonomy, make_provider, make_user, login, csrf
):
    provider = make_provider()
    login(client, make_user(staff_of=provider))
    data = course_form(taxonomy, title="", fee="", reference="MY-REF")
    response = client.post(
        f"/provider/{provider.slug}/courses/new", data={**data, "csrf_token": csrf(client)}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'href="#title"' in page and "Enter the fee" in page
    assert 'value="MY-REF"' in page and "Three days for all frontline staff." in page
    assert db.session.scalar(select(Course)) is None


def test_posting_status_published_to_the_editor_changes_nothing(
    client, taxonomy, make_provider, make_course, make_user, login, csrf
):
    provider = make_provider(verified_at=utcnow())
    course = make_course(provider=provider, status="draft", reference="KUF-AW-01")
    login(client, make_user(staff_of=provider))
    data = course_form(taxonomy, title=course.title, status="published")
    client.post(
        f"/provider/{provider.slug}/courses/{course.id}/edit",
        data={**data, "csrf_token": csrf(client)},
    )
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "draft"
    # no route takes a status at all: approving is a curator's
    assert (
        client.post(
            f"/curation/courses/{course.id}/approve", data={"csrf_token": csrf(client)}
        ).status_code
        == 403
    )
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "draft"


def test_another_organisations_course_id_is_not_found_and_unchanged(
    client, taxonomy, make_provider, make_course, make_user, login, csrf
):
    mine, theirs = make_provider(), make_provider()
    their_course = make_course("Theirs", provider=theirs, status="draft")
    login(client, make_user(staff_of=mine, admin=True))
    token = csrf(client)
    base = f"/provider/{mine.slug}/courses/{their_course.id}"
    assert client.get(base).status_code == 404
    assert client.get(base + "/preview").status_code == 404
    assert (
        client.post(
            base + "/edit", data={**course_form(taxonomy, title="Hijacked"), "csrf_token": token}
        ).status_code
        == 404
    )
    assert client.post(base + "/submit", data={"csrf_token": token}).status_code == 404
    assert client.post(base + "/archive", data={"csrf_token": token}).status_code == 404
    assert (
        client.post(
            f"/provider/{theirs.slug}/courses/{their_course.id}/edit",
            data={**course_form(taxonomy, title="Hijacked"), "csrf_token": token},
        ).status_code
        == 403
    )
    db.session.expire_all()
    course = db.session.get(Course, their_course.id)
    assert course.title == "Theirs" and course.status == "draft"
    assert db.session.scalar(select(AuditEntry)) is None


def test_preview_shows_the_learners_page_for_a_draft(
    client, make_provider, make_course, make_user, login
):
    provider = make_provider()
    course = make_course("Draft course", provider=provider, status="draft")
    login(client, make_user(staff_of=provider))
    page = client.get(f"/provider/{provider.slug}/courses/{course.id}/preview")
    assert page.status_code == 200
    assert "Preview:" in page.get_data(as_text=True)
    assert client.get(f"/courses/{course.slug}").status_code == 404  # still not public


def test_retired_values_stay_on_old_courses_but_cannot_be_chosen(
    client, taxonomy, make_provider, make_course, make_user, login, csrf
):
    provider = make_provider()
    education = taxonomy["sectors"]["education"]
    old = make_course(provider=provider, sectors=("education",), status="draft")
    education.retired_at = utcnow()
    db.session.commit()
    login(client, make_user(staff_of=provider))
    new_page = client.get(f"/provider/{provider.slug}/courses/new").get_data(as_text=True)
    choice = f'name="sectors" type="checkbox" value="{education.id}"'
    assert choice not in new_page
    edit_page = client.get(f"/provider/{provider.slug}/courses/{old.id}/edit")
    assert "(retired)" in edit_page.get_data(as_text=True)
    response = client.post(
        f"/provider/{provider.slug}/courses/new",
        data={**course_form(taxonomy, sectors=[str(education.id)]), "csrf_token": csrf(client)},
    )
    assert response.status_code == 422
    assert db.session.scalar(select(Course).where(Course.reference == "KUF-AW-01")) is None


def test_archive_asks_first_and_keeps_the_course(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider = make_provider()
    course = make_course(provider=provider)
    make_cohort(course)
    login(client, make_user(staff_of=provider))
    url = f"/provider/{provider.slug}/courses/{course.id}/archive"
    assert "Yes, archive it" in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"csrf_token": csrf(client)}).status_code == 303
    db.session.expire_all()
    kept = db.session.get(Course, course.id)
    assert kept.status == "archived" and len(kept.cohorts) == 1
    assert client.get(f"/courses/{course.slug}").status_code == 404


def test_the_organisation_page_lists_courses_in_a_fixed_number_of_queries(
    client, make_provider, make_course, make_cohort, make_user, login, count_queries
):
    provider = make_provider()
    login(client, make_user(staff_of=provider))
    make_cohort(make_course(provider=provider))

    def cost():
        with count_queries() as counter:
            assert client.get(f"/provider/{provider.slug}").status_code == 200
        return counter.count

    few = cost()
    for _ in range(5):
        make_cohort(make_course(provider=provider))
    assert cost() == few
