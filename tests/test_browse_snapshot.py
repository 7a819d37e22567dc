"""Browsing gives exactly what the SQL browse gave (``tests/browse_oracle.py``): totals, every
sort's order, pages and every facet count, for many filter combinations over a varied catalogue,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from itertools import product
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from academy.catalogue.browse import SORTS, Filters, PageOutOfRange, browse, load_terms
from academy.catalogue.snapshot import EXTENSION, SnapshotHolder
from academy.db_types import utcnow
from academy.extensions import db
from academy.search import get_store, match_text
from tests.browse_oracle import sql_browse

CHOICES = {
    "step": [None, "introductory", "awareness", "practitioner", "advanced", "leadership"],
    # environment-green-care tags no course: only the courses open to all sectors match it
    "sector": [None, "education", "criminal-justice", "housing-homelessness",
               "environment-green-care"],
    "profession": [None, "nurse", "social-worker", "gp"],
    "mode": [None, "in-person", "online-live", "blended", "online-self-paced"],
    "region": [None, "london", "wales", "scotland", "north-east", "uk-wide"],
    "programme": [None, "programme-a", "programme-b", "programme-drafts"],
    "provider": [None, "north-trust", "south-trust"],
    "weeks": [None, 1, 4, 8, 52],
    "q": ["", "relational", "practice", "supervision care", "zzzyzx", "relational practice"],
}  # fmt: skip
BASES = ["Relational practice", "Trauma-informed care", "Supervision skills",
         "Reflective practice", "Open dialogue", "apple", "Apple", "Énergie relationnelle",
         "zebra crossings", "Zebra crossings"]  # fmt: skip
SECTORS = [(), ("education",), ("criminal-justice", "education"), ("housing-homelessness",), ()]
PROFESSIONS = [(), ("nurse",), ("social-worker", "nurse"), (), ("gp",), ()]
MODES = ["in-person", "online-live", None, "blended"]
REGIONS = ["london", "wales", None, "scotland", "london", "north-east", "uk-wide"]
COSTS = [{"cost_type": "free"}, {"cost_type": "funded"}, {"cost_type": "fee", "fee_pence": 9900}]
STATUSES = {4: "draft", 13: "archived", 22: "submitted", 31: "rejected"}


@pytest.fixture
def catalogue(indexed, make_provider, make_course, make_cohort, make_programme):
    """About 45 courses of every kind, indexed for search, and the ``now`` to browse at.

    Tagged and untagged sectors and professions, free, funded and paid, no mode or region,
    hidden courses of every status (with tags, cohorts and programme places of their own),
    titles equal but for case or accents, equal and missing publication times, and cohorts past,
    running, cancelled, future and exactly on the edges of "upcoming" and "within 4 weeks". The
    index then misses one change: an archived course it still finds (the database must win).
    """
    now = utcnow()
    indexed.mode = "off"  # one sync at the end instead of one per commit
    providers = [make_provider("North trust", slug="north-trust"),
                 make_provider("South trust", slug="south-trust"), make_provider()]  # fmt: skip
    courses = []
    for number in range(45):
        course = make_course(
            f"{BASES[number % len(BASES)]} {'' if number % 3 else 'and more'}".strip(),
            provider=providers[number % 3],
            step=number % 5,
            sectors=SECTORS[(number // 5) % len(SECTORS)],
            professions=PROFESSIONS[number % len(PROFESSIONS)],
            delivery_mode=MODES[number % len(MODES)],
            region=REGIONS[(number // 2) % len(REGIONS)],
            status=STATUSES.get(number, "published"),
            summary="Relational work with people." if number % 4 == 0 else "",
            **COSTS[(number // 3) % len(COSTS)],
        )
        courses.append(course)
        kind = number % 7
        if kind == 1:
            make_cohort(course, days=3)
        elif kind == 2:
            make_cohort(course, days=60)
            make_cohort(course, days=10)
        elif kind == 3:
            make_cohort(course, days=-5)
        elif kind == 4:
            make_cohort(course, days=-1, session_days=(0, 7))  # running: not upcoming
        elif kind == 5:
            cancelled = make_cohort(course, days=5)
            cancelled.status = "cancelled"
            make_cohort(course, days=40)
        elif kind == 6:
            make_cohort(course, days=200)
    # the edges, exactly: a start at ``now`` is not upcoming; ``now`` + 4 weeks is within 4
    for course, at in ((courses[7], now), (courses[14], now + timedelta(weeks=4)),
                       (courses[21], now + timedelta(weeks=4, microseconds=1))):  # fmt: skip
        cohort = make_cohort(course)
        cohort.sessions[0].starts_at = at
        cohort.sessions[0].ends_at = at + timedelta(hours=3)
    # published at the same moment (ties go to the higher id), and once not at all
    for course in courses[10:16]:
        course.published_at = now - timedelta(days=3)
    courses[17].published_at = None
    db.session.commit()
    make_programme(
        "Programme A", [courses[1], courses[5], courses[9], courses[4]], slug="programme-a"
    )
    make_programme("Programme B", [courses[5], courses[12], courses[20]], slug="programme-b")
    make_programme("Programme of drafts", [courses[4]], slug="programme-drafts")
    indexed.run_once()
    courses[0].status = "archived"
    db.session.commit()
    return now  # the index was not told: it keeps finding the archived course


def check_against_the_oracle(filters: Filters, now) -> None:
    terms = load_terms(filters.provider)
    match = match_text(get_store(), filters.q) if filters.q else None
    expected = sql_browse(filters, terms, now, match)
    whole = browse(replace(filters, page=1, per_page=100), terms, now)
    assert [course.id for course in whole.courses] == expected.ids, filters
    assert whole.total == expected.total
    assert whole.raw_counts == expected.raw_counts, filters
    assert whole.free_count == expected.free_count
    assert whole.weeks_counts == expected.weeks_counts
    # and a page of it, and the page after the last
    per_page = 7
    pages = max(1, math.ceil(expected.total / per_page))
    page = min(filters.page, pages)
    one = browse(replace(filters, page=page, per_page=per_page), terms, now)
    assert [c.id for c in one.courses] == expected.ids[(page - 1) * per_page : page * per_page]
    assert one.total == expected.total
    with pytest.raises(PageOutOfRange):
        browse(replace(filters, page=pages + 1, per_page=per_page), terms, now)


filter_sets = st.builds(
    Filters,
    **{name: st.sampled_from(values) for name, values in CHOICES.items()},
    free=st.booleans(),
    region_only=st.booleans(),
    sort=st.sampled_from(list(SORTS)),
    page=st.integers(1, 4),
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run and both databases
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(filters=filter_sets)
def test_browse_matches_the_sql_for_any_filters(catalogue, filters):
    check_against_the_oracle(filters, catalogue)


def test_browse_matches_the_sql_for_each_filter_value_alone_in_every_sort(catalogue):
    for name, values in CHOICES.items():
        for value, sort in product(values[1:], SORTS):
            check_against_the_oracle(Filters(**{name: value}, sort=sort), catalogue)
    for sort, free in product(SORTS, (False, True)):
        check_against_the_oracle(Filters(sort=sort, free=free), catalogue)
    for region in CHOICES["region"][1:]:
        check_against_the_oracle(Filters(region=region, region_only=True), catalogue)


# -- keeping the snapshot true to the database ---------------------------------------------------


def listing(client, query: str = "") -> dict:
    response = client.get(f"/api/v1/courses?{query}")
    assert response.status_code == 200
    return response.get_json()


def titles_of(data: dict) -> list[str]:
    return [course["title"] for course in data["results"]]


def counts_of(data: dict, facet: str) -> dict[str, int]:
    return {value["slug"]: value["count"] for value in data["facets"][facet]}


def test_each_committed_change_is_seen_by_the_next_browse(
    client, taxonomy, make_course, make_cohort
):
    alpha = make_course("Alpha", sectors=("education",))
    beta = make_course("Beta", sectors=("criminal-justice",))
    gamma = make_course("Gamma")  # open to every sector
    soon = make_cohort(alpha, days=10)
    make_cohort(beta, days=20)
    data = listing(client)
    assert titles_of(data) == ["Alpha", "Beta", "Gamma"]
    assert counts_of(data, "sector")["education"] == 2

    beta.status = "archived"
    db.session.commit()
    data = listing(client)
    assert titles_of(data) == ["Alpha", "Gamma"]
    assert counts_of(data, "sector")["criminal-justice"] == 1

    alpha.sectors = [taxonomy["sectors"]["criminal-justice"]]
    db.session.commit()
    data = listing(client)
    assert counts_of(data, "sector")["education"] == 1
    assert counts_of(data, "sector")["criminal-justice"] == 2
    assert titles_of(listing(client, "sector=education")) == ["Gamma"]

    soon.status = "cancelled"
    db.session.commit()
    data = listing(client)
    assert data["facets"]["weeks"][0]["count"] == 0  # within 4 weeks
    assert [c["next_cohort_start"] for c in data["results"]] == [None, None]

    later = make_cohort(gamma, days=40)
    assert titles_of(listing(client)) == ["Gamma", "Alpha"]
    assert titles_of(listing(client, "weeks=4")) == []
    session = later.sessions[0]
    session.starts_at, session.ends_at = utcnow() + timedelta(days=3), utcnow() + timedelta(days=4)
    db.session.commit()
    assert titles_of(listing(client, "weeks=4")) == ["Gamma"]

    taxonomy["sectors"]["education"].name = "Schools and colleges"
    db.session.commit()
    names = {v["slug"]: v["name"] for v in listing(client)["facets"]["sector"]}
    assert names["education"] == "Schools and colleges"
    check_against_the_oracle(Filters(sector="education"), utcnow())


def test_the_snapshot_is_kept_while_nothing_changes(app, client, make_course, count_queries):
    for number in range(5):
        make_course(f"Course {number}", sectors=("education",) * (number % 2), step=number % 3)
    client.get("/courses")
    holder = app.extensions[EXTENSION]
    builds = holder.builds
    for query in ("sector=education", "sort=title", "step=awareness&sort=newest", "free=1"):
        with count_queries() as counter:
            assert client.get(f"/courses?{query}").status_code == 200
        assert counter.count <= 2, counter.statements  # the stamp and the page: no rebuild
    assert holder.builds == builds
    make_course("One more")
    assert "One more" in client.get("/courses").get_data(as_text=True)
    assert holder.builds == builds + 1


def test_uncommitted_changes_are_seen_but_never_shared(app, ctx, make_course):
    kept = make_course("Kept")
    assert browse(Filters(), load_terms()).total == 1
    builds = app.extensions[EXTENSION].builds
    kept.status = "archived"
    db.session.flush()
    # this transaction sees its own change, as the SQL did, on a snapshot of its own
    assert browse(Filters(), load_terms()).total == 0
    assert app.extensions[EXTENSION].builds == builds
    db.session.rollback()
    # on SQLite the next change takes the outbox id the rolled-back one had taken
    make_course("Other")
    result = browse(Filters(sort="title"), load_terms())
    assert [course.title for course in result.courses] == ["Kept", "Other"]


def test_threads_wanting_the_same_stamp_share_one_build():
    holder = SnapshotHolder()
    built = []
    ready = threading.Barrier(8)

    def build():
        built.append(threading.get_ident())
        return SimpleNamespace(stamp=(5, "gen"))

    def want(_number):
        ready.wait()
        return holder.get((5, "gen"), build)

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(want, range(8)))
    assert len(built) == 1 and all(snapshot is got[0] for snapshot in got)
    assert holder.get((4, "gen"), build) is got[0]  # asked with an older stamp: the newer is fine
    assert len(built) == 1


def test_a_failed_build_leaves_the_last_snapshot_in_place():
    holder = SnapshotHolder()
    first = holder.get((1,), lambda: SimpleNamespace(stamp=(1,)))

    def broken():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        holder.get((2,), broken)
    assert holder.get((1,), broken) is first and holder.builds == 1
