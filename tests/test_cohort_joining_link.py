"""An online cohort's joining link: its own field, https only, seen by learners with a place
on My learning and in their calendars, never on the public page, the API or the waitlist."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_migrate import downgrade, upgrade
from icalendar import Calendar
from sqlalchemy import func, insert, select, text

from academy.audit import AuditEntry
from academy.catalogue.models import Cohort, CohortSession, Course
from academy.db_types import utcnow
from academy.enrolment import services as enrolment
from academy.extensions import db
from academy.providers.models import CohortJoiningLink, Provider
from academy.search.models import SearchOutbox
from academy.seeding import seed_taxonomy
from academy.taxonomy.models import Step
from tests.conftest import reset_schema

LINK = "https://meet.example.org/kuf-awareness-7f3a"


def setup(make_provider, make_course, make_cohort, make_user, **cohort_fields):
    provider = make_provider("Provider X")
    course = make_course("KUF Awareness", provider=provider)
    cohort = make_cohort(course, **{"capacity": 1, "online": True, **cohort_fields})
    staff = make_user(name="Sam Staff", staff_of=provider)
    return provider, course, cohort, staff


def edit(client, csrf, provider, cohort, **fields):
    data = {"capacity": "1", "is_online": "y", "location": "", "joining_link": "", "closes_on": ""}
    data.update(fields)
    return client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/edit",
        data={k: v for k, v in data.items() if v is not None} | {"csrf_token": csrf(client)},
    )


def stored_link(cohort) -> str | None:
    db.session.expire_all()
    row = db.session.get(CohortJoiningLink, cohort.id)
    return row.url if row else None


def test_a_new_online_cohort_keeps_its_link_apart_from_its_place(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, course, _, staff = setup(make_provider, make_course, make_cohort, make_user)
    login(client, staff)
    form = client.get(f"/provider/{provider.slug}/courses/{course.id}/cohorts/new")
    assert '<label for="joining_link">Joining link (online cohorts)</label>' in form.get_data(
        as_text=True
    )
    response = client.post(
        f"/provider/{provider.slug}/courses/{course.id}/cohorts/new",
        data={
            "capacity": "12",
            "is_online": "y",
            "location": "Zoom",
            "joining_link": LINK,
            "date": "2031-03-14",
            "start_time": "09:30",
            "end_time": "16:30",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 303
    cohort = db.session.scalars(select(Cohort).order_by(Cohort.id.desc())).first()
    assert cohort.location == "Zoom" and stored_link(cohort) == LINK
    page = client.get(f"/provider/{provider.slug}/cohorts/{cohort.id}").get_data(as_text=True)
    assert f'href="{LINK}"' in page


def test_links_that_are_not_secure_or_not_for_an_online_cohort_are_refused_and_kept(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    login(client, staff)
    for fields, message in (
        ({"joining_link": "http://meet.example.org/abc"}, "starts with https://"),
        ({"joining_link": "javascript:alert(1)"}, "Enter the whole link"),
        ({"joining_link": "meet dot example"}, "Enter the whole link"),
        (
            {"joining_link": LINK, "is_online": None, "location": "Leeds"},
            "tick Online, or leave the link empty",
        ),
        ({"location": "https://meet.example.org/abc"}, "cannot hold a link"),
        ({"location": "Join at www.example.org/call"}, "cannot hold a link"),
        ({"joining_link": "https://" + "a" * 500 + ".org"}, "Field cannot be longer"),
    ):
        response = edit(client, csrf, provider, cohort, **fields)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert message in page and 'class="error-summary"' in page, fields
        typed = fields.get("joining_link") or fields.get("location")
        assert f'value="{typed}"'.replace("&", "&amp;") in page, fields  # kept to correct
    assert stored_link(cohort) is None


def test_changing_and_clearing_the_link_is_logged(
    client, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    login(client, staff)
    assert edit(client, csrf, provider, cohort, joining_link=LINK).status_code == 303
    assert stored_link(cohort) == LINK
    form = client.get(f"/provider/{provider.slug}/cohorts/{cohort.id}/edit").get_data(as_text=True)
    assert f'value="{LINK}"' in form
    assert edit(client, csrf, provider, cohort, joining_link="").status_code == 303
    assert stored_link(cohort) is None
    details = db.session.scalars(
        select(AuditEntry.detail).where(AuditEntry.action == "cohort.edited")
    ).all()
    assert len(details) == 2 and all("joining_link" in d for d in details)


def test_only_learners_with_a_place_see_the_link(
    client, app, make_provider, make_course, make_cohort, make_user, login, csrf
):
    provider, course, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    placed, waiting = make_user(), make_user()
    place = enrolment.enrol(placed, cohort.id)
    wait = enrolment.enrol(waiting, cohort.id)  # capacity 1: the waitlist
    db.session.commit()
    login(client, staff)
    edit(client, csrf, provider, cohort, joining_link=LINK)

    learner = app.test_client()
    login(learner, placed)
    assert f'href="{LINK}"' in learner.get(f"/my-learning/{place.id}").get_data(as_text=True)
    for ics in (
        learner.get(f"/my-learning/{place.id}/calendar.ics").data,
        learner.get(f"/calendar/{placed.calendar_token}.ics").data,
    ):
        (event,) = Calendar.from_ical(ics).walk("VEVENT")
        assert str(event["LOCATION"]) == LINK and LINK in str(event["DESCRIPTION"])

    other = app.test_client()
    login(other, waiting)
    assert LINK not in other.get(f"/my-learning/{wait.id}").get_data(as_text=True)
    assert LINK not in other.get(f"/calendar/{waiting.calendar_token}.ics").get_data(as_text=True)
    public = app.test_client()
    assert LINK not in public.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert LINK not in public.get(f"/api/v1/courses/{course.id}").get_data(as_text=True)

    # a learner who withdraws no longer sees it
    learner.post(f"/my-learning/{place.id}/withdraw", data={"csrf_token": csrf(learner)})
    assert LINK not in learner.get(f"/my-learning/{place.id}").get_data(as_text=True)


def migrated_world() -> tuple[int, list[int]]:
    """A course with an online cohort whose place is a link, an in-person one and an online one
    whose place is a word, written at revision 0006 (before joining links had a table); their
    ids."""
    seed_taxonomy(Path(current_app.config["SEED_DIR"]))
    provider = Provider(name="Provider X", slug="provider-x")
    db.session.add(provider)
    db.session.flush()
    # the courses table as it was at 0006: name only its columns (the model may have more now)
    course_id = db.session.execute(
        insert(Course.__table__)
        .values(
            title="KUF Awareness",
            slug="kuf-awareness",
            reference="KUF-1",
            provider_id=provider.id,
            step_id=db.session.scalar(select(Step.id).where(Step.slug == "awareness")),
            summary="",
            description="",
            who_its_for="",
            entry_requirements="",
            where_next="",
            cost_type="free",
            lived_experience_codelivery=False,
            status="draft",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        .returning(Course.__table__.c.id)
    ).scalar_one()
    start = utcnow() + timedelta(days=30)
    cohorts = [
        Cohort(
            course_id=course_id,
            capacity=10,
            is_online=online,
            location=location,
            sessions=[CohortSession(starts_at=start, ends_at=start + timedelta(hours=6))],
        )
        for online, location in (
            (True, "HTTPS://meet.example.org/old"),
            (False, "Training room 1, Leeds"),
            (True, "Zoom"),
        )
    ]
    db.session.add_all(cohorts)
    db.session.commit()
    return course_id, [c.id for c in cohorts]


def places() -> dict[int, str | None]:
    return dict(db.session.execute(text("SELECT id, location FROM cohorts")).all())


def test_the_migration_moves_links_out_of_the_public_place(ctx):
    reset_schema()
    upgrade(revision="0006")
    course, (online, elsewhere, named) = migrated_world()
    queued = db.session.scalar(select(func.max(SearchOutbox.id))) or 0
    db.session.remove()

    upgrade()
    rows = db.session.execute(text("SELECT cohort_id, url FROM cohort_joining_links")).all()
    assert [tuple(r) for r in rows] == [(online, "HTTPS://meet.example.org/old")]
    assert places() == {online: None, elsewhere: "Training room 1, Leeds", named: "Zoom"}
    entries = db.session.execute(
        select(SearchOutbox.entity, SearchOutbox.entity_id).where(SearchOutbox.id > queued)
    ).all()
    assert [tuple(e) for e in entries] == [("course", course)]  # the index held it as text
    db.session.remove()

    downgrade(revision="0006")
    assert places()[online] == "HTTPS://meet.example.org/old"
    db.session.remove()
