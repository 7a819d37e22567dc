"""The read API, its OpenAPI document, the Atom feed, and property-based tests of odd input."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from academy.api.openapi import openapi_document
from academy.extensions import db

FILTER_PARAMS = [
    "q", "step", "sector", "profession", "mode", "region", "programme", "provider", "free",
    "weeks", "sort", "per_page", "page",
]  # fmt: skip


def schema_for(name: str) -> dict:
    document = openapi_document()
    return {"$ref": f"#/components/schemas/{name}", "components": document["components"]}


def validate(instance, name: str) -> None:
    jsonschema.validate(instance, schema_for(name))


@pytest.fixture
def api_catalogue(indexed, make_course, make_cohort, make_programme):
    a = make_course("Prison awareness", step=1, sectors=("criminal-justice",), summary="Prisons.")
    b = make_course("Housing practitioner", step=2, sectors=("housing-homelessness",))
    b.prerequisites.append(a)
    make_course("Secret draft", status="draft")
    make_cohort(a, days=10, capacity=12, seats_taken=2)
    make_programme("A programme", [a, b], slug="a-programme")
    db.session.commit()
    return a, b


def test_course_list_matches_the_page_and_the_schema(client, api_catalogue):
    response = client.get("/api/v1/courses?sector=criminal-justice")
    assert response.status_code == 200 and response.is_json
    data = response.get_json()
    validate(data, "CourseList")
    assert data["total"] == 1
    (course,) = data["results"]
    assert course["title"] == "Prison awareness"
    assert course["step"] == {"number": 1, "slug": "awareness", "name": "Awareness"}
    assert course["next_cohort_start"].endswith("Z")
    assert course["url"].endswith(f"/courses/{course['slug']}")
    steps = {v["slug"]: v["count"] for v in data["facets"]["step"]}
    assert steps["awareness"] == 1 and steps["practitioner"] == 0


def test_course_list_runs_the_same_two_queries_for_10_and_50_courses(
    client, make_course, make_cohort, count_queries
):
    courses = [
        make_course(f"Course {n:02d}", sectors=("education",), professions=("nurse",))
        for n in range(60)
    ]
    make_cohort(courses[0], days=5)
    db.session.commit()
    client.get("/api/v1/courses")  # the catalogue snapshot is built once, then kept
    with count_queries() as ten:
        small = client.get("/api/v1/courses?per_page=10&sort=title").get_json()
    with count_queries() as fifty:
        large = client.get("/api/v1/courses?per_page=50&sort=title").get_json()
    assert len(small["results"]) == 10 and len(large["results"]) == 50
    assert ten.count == fifty.count <= 2  # the stamp and the page: no query per course
    first = large["results"][0]
    assert [p["slug"] for p in first["professions"]] == ["nurse"]
    assert [s["slug"] for s in first["sectors"]] == ["education"]
    assert first["next_cohort_start"] is not None


def test_course_list_search_and_suggestion(client, api_catalogue):
    data = client.get("/api/v1/courses?q=prisn").get_json()
    assert data["corrected_from"] == "prisn" and data["suggestion"] == "prison"
    assert [r["title"] for r in data["results"]] == ["Prison awareness"]


def test_course_detail(client, api_catalogue):
    a, b = api_catalogue
    response = client.get(f"/api/v1/courses/{b.id}")
    data = response.get_json()
    validate(data, "Course")
    assert data["prerequisites"] == [{"id": a.id, "title": "Prison awareness"}]
    assert data["programmes"][0]["module"] == 2 and data["programmes"][0]["of"] == 2
    detail_a = client.get(f"/api/v1/courses/{a.id}").get_json()
    assert detail_a["cohorts"][0]["places_left"] == 10


@pytest.mark.parametrize(
    "url",
    ["/api/v1/courses/999999", "/api/v1/courses/abc", "/api/v1/courses/-1",
     "/api/v1/courses/99999999999999999999", "/api/v1/nothing-here", "/api/v1/courses?page=50"],
)  # fmt: skip
def test_api_errors_are_json_with_the_right_status(client, api_catalogue, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.is_json
    validate(response.get_json(), "Error")


def test_hidden_course_is_404_in_the_api(client, api_catalogue):
    from sqlalchemy import select

    from academy.catalogue.models import Course

    draft = db.session.scalar(select(Course).where(Course.status == "draft"))
    assert client.get(f"/api/v1/courses/{draft.id}").status_code == 404


def test_api_method_not_allowed_is_json(client):
    response = client.post("/api/v1/courses")
    assert response.status_code in (400, 405) and response.is_json


def test_openapi_document_is_served_and_lists_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    api_rules = {
        rule.rule.replace("<int:course_id>", "{course_id}")
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and not rule.rule.endswith("openapi.json")
    }
    assert api_rules == set(document["paths"])


def test_atom_feed_lists_newly_published_courses(client, api_catalogue):
    response = client.get("/courses/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert sorted(titles) == ["Housing practitioner", "Prison awareness"]


junk = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(params=st.dictionaries(st.sampled_from(FILTER_PARAMS), junk, max_size=6))
def test_arbitrary_text_in_any_parameter_never_gives_a_500(client, api_catalogue, params):
    page = client.get("/courses", query_string=params)
    assert page.status_code in (200, 404)
    api = client.get("/api/v1/courses", query_string=params)
    assert api.status_code in (200, 404) and api.is_json
    if api.status_code == 200:
        validate(api.get_json(), "CourseList")
    else:
        validate(api.get_json(), "Error")
