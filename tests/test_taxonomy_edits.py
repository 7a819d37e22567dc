"""Taxonomy edits stay consistent: names unique ignoring case, accents and punctuation on add and
rename; merging moves courses (and pending edits) with an audit entry; bad input changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from academy.audit import AuditEntry
from academy.catalogue.models import Course
from academy.curation import services
from academy.extensions import db
from academy.providers import courses as course_services
from academy.taxonomy.models import Region, Sector


@pytest.mark.parametrize(
    "name", ["housing and homelessness", "HOUSING & HOMELESSNESS!", "Hóusing and  homelessness"]
)
def test_renaming_to_a_name_in_use_is_refused_with_a_clear_message(
    client, taxonomy, make_user, login, csrf, name
):
    education = taxonomy["sectors"]["education"]
    login(client, make_user(curator=True))
    response = client.post(
        f"/curation/taxonomy/sectors/{education.id}",
        data={"csrf_token": csrf(client), "action": "rename", "name": name},
    )
    assert response.status_code == 422
    assert "is already in the list" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Sector, education.id).name == "Education"
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0


def test_adding_a_name_in_use_keeps_what_was_typed(client, taxonomy, make_user, login, csrf):
    login(client, make_user(curator=True))
    before = db.session.scalar(select(func.count(Sector.id)))
    response = client.post(
        "/curation/taxonomy/sectors", data={"csrf_token": csrf(client), "name": "EDUCATION."}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "is already in the list" in page
    assert 'value="EDUCATION."' in page
    assert db.session.scalar(select(func.count(Sector.id))) == before


def test_renaming_a_term_to_its_own_name_in_other_case_is_fine(ctx, taxonomy, make_user):
    education = taxonomy["sectors"]["education"]
    services.rename_term(make_user(curator=True), "sectors", education.id, "EDUCATION")
    assert education.name == "EDUCATION"


def test_merging_moves_courses_and_pending_edits_with_an_audit_entry(
    ctx, taxonomy, make_course, make_provider, make_user
):
    sectors, regions = taxonomy["sectors"], taxonomy["regions"]
    education, housing = sectors["education"], sectors["housing-homelessness"]
    provider = make_provider()
    staff, curator = make_user(staff_of=provider), make_user(curator=True)
    only_education = make_course(provider=provider, sectors=("education",))
    both = make_course(provider=provider, sectors=("education", "housing-homelessness"))
    edited = make_course(provider=provider)
    values = course_services.editor_values(edited)
    values["sectors"] = [education]
    course_services.update_course(staff, edited, values)
    db.session.commit()

    services.merge_term(curator, "sectors", education.id, housing.id)
    db.session.commit()
    db.session.expire_all()
    slugs = lambda c: [s.slug for s in db.session.get(Course, c.id).sectors]  # noqa: E731
    assert slugs(only_education) == ["housing-homelessness"]
    assert slugs(both) == ["housing-homelessness"]
    assert course_services.pending(db.session.get(Course, edited.id))["sectors"] == [housing.id]
    assert db.session.get(Sector, education.id).is_retired
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "taxonomy.merged"))
    assert "Merged" in entry.summary and "2 courses moved" in entry.summary

    london = make_course(provider=provider, region="london")
    services.merge_term(curator, "regions", regions["london"].id, regions["south-east"].id)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Course, london.id).region.slug == "south-east"
    assert db.session.get(Region, regions["london"].id).is_retired


def test_merge_bad_input_changes_nothing(client, taxonomy, make_user, login, csrf):
    education = taxonomy["sectors"]["education"]
    login(client, make_user(curator=True))
    for data in ({"term": education.id, "into": education.id}, {"term": 99999, "into": 1}, {}):
        response = client.post(
            "/curation/taxonomy/sectors/merge", data={"csrf_token": csrf(client), **data}
        )
        assert response.status_code == 422
    steps = taxonomy["steps"]
    response = client.post(
        "/curation/taxonomy/steps/merge",
        data={
            "csrf_token": csrf(client),
            "term": steps["awareness"].id,
            "into": steps["practitioner"].id,
        },
    )
    assert response.status_code == 422 and "cannot be merged" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 0
