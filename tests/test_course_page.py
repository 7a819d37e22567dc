"""The public course page from plain rows and its per-stamp cache (issue 18).

Held three ways: the fast page renders exactly the HTML of the ORM page it replaced, for every
course of varied catalogues, for a visitor and a signed-in learner (the oracle); a change to a
course, a cohort, a place, a provider, a prerequisite or the taxonomy is on the next request of
every cached page (course page, browse, search); and the page runs a fixed, small number of
queries however much the course has (a visitor's repeat view: two). My learning's budget too.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from flask import render_template
from flask_login import login_user
from sqlalchemy import update
from werkzeug.exceptions import NotFound

from academy.catalogue.course_page import EXTENSION, public_course_page
from academy.catalogue.models import Course
from academy.catalogue.pages import get_public_course
from academy.db_types import utcnow
from academy.enrolment import services
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.providers.cohorts import update_cohort
from academy.search import get_store, indexer


def render(reader, slug: str, now) -> str | None:
    try:
        page = reader(slug, now)
    except NotFound:
        return None
    return render_template("catalogue/detail.html", page=page)


def build_catalogue(seed: int, make_course, make_cohort, make_programme, taxonomy) -> list[Course]:
    """A dozen courses with every kind of thing a course page shows, or lacks."""
    rng = random.Random(seed)
    sectors, professions, principles = (
        sorted(taxonomy[kind]) for kind in ("sectors", "professions", "principles")
    )
    courses = []
    for n in range(12):
        fee = rng.random() < 0.3
        course = make_course(
            f"{rng.choice(['Trauma', 'Relational', 'Reflective'])} practice {n}",
            step=rng.randint(0, 4),
            sectors=tuple(rng.sample(sectors, rng.randint(0, 3))),
            professions=tuple(rng.sample(professions, rng.randint(0, 2))),
            principles=tuple(rng.sample(principles, rng.randint(0, 2))),
            delivery_mode=rng.choice([None, "in-person", "online-self-paced", "online-live"]),
            region=rng.choice([None, "london"]),
            status=rng.choice(["published"] * 4 + ["draft", "archived"]),
            summary=rng.choice(["", "A summary & <more>."]),
            description=rng.choice(["", "One.\n\nTwo <b>bold</b>."]),
            who_its_for=rng.choice(["", "Staff"]),
            entry_requirements=rng.choice(["", "None"]),
            where_next=rng.choice(["", "Onwards"]),
            external_url=rng.choice([None, "https://example.org/c?a=1&b=2"]),
            duration_hours=rng.choice([None, 0.0, 1.5, 12.0]),
            cpd_hours=rng.choice([None, 3.0]),
            credits=rng.choice([None, 10]),
            credit_level=rng.choice([None, "Level 4"]),
            cost_type="fee" if fee else rng.choice(["free", "funded"]),
            fee_pence=rng.randint(0, 90000) if fee else None,
            lived_experience_codelivery=rng.random() < 0.5,
        )
        for _ in range(rng.randint(0, 4)):
            cohort = make_cohort(
                course,
                days=rng.choice([-40, -1, 3, 30, 90]),
                session_days=tuple(sorted(rng.sample([0, 1, 7, 14], rng.randint(1, 3)))),
                capacity=rng.randint(1, 5),
                online=rng.random() < 0.5,
            )
            cohort.seats_taken = rng.randint(0, cohort.capacity)
            if rng.random() < 0.2:
                cohort.status, cohort.cancelled_at = "cancelled", utcnow()
            if rng.random() < 0.3:
                cohort.enrolment_closes_at = None
        courses.append(course)
    for course in courses:
        others = [c for c in courses if c is not course]
        course.prerequisites = rng.sample(others, rng.randint(0, 2))
    db.session.commit()
    for n in range(3):
        make_programme(f"Programme {rng.choice('ZAM')}{n}", rng.sample(courses, rng.randint(1, 4)))
    # in two programmes whose names sort apart from their ids (and differ in case)
    make_programme("Zeta programme", courses[:2])
    make_programme("alpha programme", courses[1::-1])
    return courses


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fast_page_renders_exactly_the_orm_page(
    app, seed, make_course, make_cohort, make_programme, make_user, taxonomy
):
    courses = build_catalogue(seed, make_course, make_cohort, make_programme, taxonomy)
    learner = make_user()
    # the learner completed some courses and holds places on others: the panels show both
    statuses = ["completed", "enrolled", "waitlisted", "requested", "withdrawn", "declined"]
    for course in courses:
        for cohort in course.cohorts:
            if random.Random(seed + cohort.id).random() < 0.5:
                status = random.Random(cohort.id).choice(statuses)
                db.session.add(Enrolment(user_id=learner.id, cohort_id=cohort.id, status=status))
    db.session.commit()
    now = utcnow()
    shown = 0
    for course in courses:
        for signed_in in (False, True):
            with app.test_request_context(f"/courses/{course.slug}"):
                if signed_in:
                    login_user(learner)
                fast = render(public_course_page, course.slug, now)
                slow = render(get_public_course, course.slug, now)
            assert fast == slow, (seed, course.slug, signed_in)
            shown += fast is not None
    assert shown >= 8  # most of them are public, and those render


def page(client, path: str) -> str:
    """The page's HTML without tags (search highlights split a title with ``<mark>``)."""
    response = client.get(path)
    assert response.status_code == 200, path
    return re.sub(r"<[^>]+>", "", response.get_data(as_text=True))


@pytest.fixture
def course(make_course, make_cohort, make_provider):
    course = make_course(
        "Relational practice", slug="relational-practice", sectors=("education",),
        provider=make_provider("Old Provider Name"), summary="Working together.",
    )  # fmt: skip
    make_cohort(course, days=30, capacity=20)
    indexer.sync(get_store(), db.engine)  # the search page finds it (later changes unapplied)
    return course


PAGES = {
    "course page": "/courses/relational-practice",
    "browse": "/courses?sort=title",
    "search": "/courses?q=relational",
}


def change_course(course, **_):
    course.title = "Renamed relational practice"
    db.session.commit()
    return "Renamed relational practice"


def change_cohort(course, make_cohort, **_):
    cohort = make_cohort(course, days=3, capacity=5)  # now the soonest start
    return cohort.sessions[0].starts_at.astimezone(_london()).strftime("%-d %B %Y")


def change_taxonomy(course, taxonomy, **_):
    taxonomy["sectors"]["education"].name = "Schooling and learning"
    db.session.commit()
    return "Schooling and learning"


def change_provider(course, **_):
    course.provider.name = "New Provider Name"
    db.session.commit()
    return "New Provider Name"


def _london():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/London")


@pytest.mark.parametrize("where", list(PAGES))
@pytest.mark.parametrize(
    "change", [change_course, change_cohort, change_taxonomy, change_provider],
    ids=["course", "cohort", "taxonomy", "provider"],
)  # fmt: skip
def test_a_change_is_on_the_next_request_of_every_cached_page(
    client, course, where, change, make_cohort, taxonomy
):
    path = PAGES[where]
    before = page(client, path)
    assert "Relational practice" in before
    assert page(client, path) == before  # the second request came from the caches
    shown = change(course, make_cohort=make_cohort, taxonomy=taxonomy)
    assert shown not in before
    assert shown in page(client, path)


def places_line(text: str) -> str:
    return re.search(r"(\d+ of \d+ places? left\.)", text).group(1)


def test_a_place_taken_or_freed_is_on_the_next_course_page(client, course, make_user):
    path = PAGES["course page"]
    assert places_line(page(client, path)) == "20 of 20 places left."
    cohort = course.cohorts[0]
    learner = make_user()
    enrolment = services.enrol(learner, cohort.id)  # a conditional UPDATE: no outbox row
    db.session.commit()
    assert places_line(page(client, path)) == "19 of 20 places left."
    services.withdraw(learner, enrolment.id)
    db.session.commit()
    assert places_line(page(client, path)) == "20 of 20 places left."


def test_a_capacity_change_is_on_the_next_course_page(client, course, make_user):
    path = PAGES["course page"]
    assert places_line(page(client, path)) == "20 of 20 places left."
    staff = make_user(staff_of=course.provider)
    cohort = course.cohorts[0]
    update_cohort(  # only the capacity changes: a conditional UPDATE again
        staff, cohort, capacity=12, is_online=cohort.is_online, location=cohort.location,
        enrolment_closes_at=cohort.enrolment_closes_at,
    )  # fmt: skip
    db.session.commit()
    assert places_line(page(client, path)) == "12 of 12 places left."


def test_a_new_prerequisite_elsewhere_changes_this_courses_next_steps(client, course, make_course):
    path = PAGES["course page"]
    assert "Advanced practice" not in page(client, path)
    advanced = make_course("Advanced practice", slug="advanced-practice")
    advanced.prerequisites.append(course)  # a change to the other course only
    db.session.commit()
    assert "Advanced practice" in page(client, path)


def test_a_course_withdrawn_from_the_catalogue_is_gone_on_the_next_request(client, course):
    path = PAGES["course page"]
    page(client, path)
    course.status = "archived"
    db.session.commit()
    assert client.get(path).status_code == 404
    course.status = "published"
    db.session.commit()
    assert client.get(path).status_code == 200  # a cached "not found" is no staler


def test_a_session_moved_and_a_cohort_cancelled_are_on_the_next_page(client, course):
    path = PAGES["course page"]
    cohort = course.cohorts[0]
    first = page(client, path)
    assert "20 of 20 places left." in first
    cohort.sessions[0].starts_at += timedelta(days=7)
    cohort.sessions[0].ends_at += timedelta(days=7)
    db.session.commit()
    moved = cohort.sessions[0].starts_at.astimezone(_london()).strftime("%-d %B %Y")
    assert moved in page(client, path) and moved not in first
    cohort.status, cohort.cancelled_at = "cancelled", utcnow()
    db.session.commit()
    assert "places left" not in page(client, path)


def test_the_cache_is_kept_per_stamp_and_can_be_turned_off(app, client, course):
    page(client, PAGES["course page"])
    cache = app.extensions[EXTENSION]
    assert len(cache) == 1 and cache.misses == 1
    page(client, PAGES["course page"])
    assert cache.hits == 1
    app.config["COURSE_PAGE_CACHE_SIZE"] = 0
    course.title = "Uncached"
    db.session.commit()
    assert "Uncached" in page(client, PAGES["course page"])
    assert cache.hits == 1 and cache.misses == 1


def test_odd_slugs_are_404_not_500(client, course):
    for slug in ("nope", "a%00b", "x" * 400, "%C3%A9t%C3%A9"):
        assert client.get(f"/courses/{slug}").status_code == 404


# -- a visitor's page, rendered once per state (page_cache.py) --------------------------------


def test_a_course_hidden_or_edited_without_an_outbox_row_is_never_shown_as_it_was(
    app, client, course
):
    """Bulk statements write no outbox row (as a transaction that commits late under an older
    id looks until the index applies it): the stamp stays, yet every page reads what matters."""
    for path in PAGES.values():
        page(client, path)
    db.session.execute(update(Course).where(Course.id == course.id).values(title="Edited"))
    db.session.commit()
    assert "Edited" in page(client, PAGES["course page"])  # its row's version changed
    db.session.execute(update(Course).where(Course.id == course.id).values(status="draft"))
    db.session.commit()
    assert client.get(PAGES["course page"]).status_code == 404
    assert "Relational practice" not in page(client, PAGES["browse"])
    assert "Relational practice" not in page(client, PAGES["search"])


def test_a_visitors_page_follows_the_clock(client, course, monkeypatch):
    import academy.catalogue.browse as browse_module
    import academy.catalogue.course_page as course_page_module
    import academy.catalogue.page_cache as page_cache_module
    import academy.enrolment.views as enrolment_views

    start = course.cohorts[0].sessions[0].starts_at
    shown = start.astimezone(_london()).strftime("%-d %B %Y")
    assert "Log in to enrol" in page(client, PAGES["course page"])
    assert shown in page(client, PAGES["browse"])
    later = start + timedelta(hours=1)
    for module in (browse_module, course_page_module, page_cache_module, enrolment_views):
        monkeypatch.setattr(module, "utcnow", lambda: later)
    after = page(client, PAGES["course page"])
    assert "Log in to enrol" not in after and "This course has run before" in after
    listed = page(client, PAGES["browse"])
    assert shown not in listed and "No upcoming dates" in listed


def test_signed_in_people_and_flashed_messages_never_get_a_visitors_page(
    client, course, login, make_user
):
    learner = make_user(name="Ada Learner")
    for path in PAGES.values():
        assert "Log out" not in page(client, path)
    login(client, learner)
    for path in PAGES.values():
        assert "Log out" in page(client, path)
    anonymous = client.application.test_client()
    for path in PAGES.values():
        with anonymous.session_transaction() as session:
            session["_flashes"] = [("success", "A message for this visitor")]
        assert "A message for this visitor" in page(anonymous, path)
        assert "Log out" not in page(anonymous, path)


def test_the_page_cache_can_be_turned_off(app, client, course):
    app.config["PAGE_CACHE_SIZE"] = 0
    for path in PAGES.values():
        assert page(client, path) == page(client, path)
    assert "academy.catalogue.page_html" not in app.extensions


# -- query budgets -------------------------------------------------------------------------------


def test_the_course_page_runs_the_same_few_queries_however_much_the_course_has(
    client, login, make_course, make_cohort, make_programme, make_user, count_queries
):
    small = make_course("Small", slug="small")
    make_cohort(small)
    big = make_course(
        "Big",
        slug="big",
        sectors=("education", "health-social-care"),
        principles=("belonging-connection",),
    )
    for days in (5, 10, 20, -30, -60, 40):
        make_cohort(big, days=days, session_days=(0, 7, 14))
    big.prerequisites = [make_course(f"Before {n}") for n in range(4)]
    db.session.commit()
    after = [make_course(f"After {n}") for n in range(3)]
    for course in after:
        course.prerequisites.append(big)
    make_programme("A programme", [small, big])
    db.session.commit()

    def queries(path: str) -> tuple[int, int]:
        with count_queries() as first:
            assert client.get(path).status_code == 200
        with count_queries() as again:
            assert client.get(path).status_code == 200
        return first.count, again.count

    # a visitor: the stamp, the listing and everything it names, the cohorts; then from the
    # cache only the stamp and the cohorts (dates and places are never cached)
    assert queries("/courses/small") == queries("/courses/big") == (4, 2)
    learner = make_user()
    login(client, learner)
    signed_in = [queries("/courses/small"), queries("/courses/big")]
    assert signed_in[0][1] == signed_in[1][1] - 1  # the big course asks what was completed
    assert max(signed_in[1]) <= 9


def test_my_learning_runs_a_fixed_number_of_queries_however_many_places(
    client, login, make_course, make_cohort, make_user, count_queries
):
    learner = make_user()
    login(client, learner)
    counts = []
    for _round in range(2):
        for status in ("enrolled", "waitlisted", "completed", "withdrawn"):
            for days in (20, -20):
                cohort = make_cohort(make_course(), days=days)
                db.session.add(Enrolment(user_id=learner.id, cohort_id=cohort.id, status=status))
        db.session.commit()
        with count_queries() as counter:
            assert client.get("/my-learning").status_code == 200
        counts.append(counter.count)
    # the signed-in user and memberships, the places with their cohorts' dates, courses and
    # providers, waitlist positions, verified records
    assert counts[0] == counts[1] <= 4
