"""Browsing /courses: filters, facet counts, visibility, sorting, pagination and odd input."""

from __future__ import annotations

import re

import pytest

from academy.catalogue.browse import Filters, browse, load_terms


def titles(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<h3 class="card-title"><a href="[^"]+">([^<]+)</a>', html)


def facet_option(response, name: str, slug: str) -> str:
    """The <option> tag for ``slug`` in the ``name`` filter."""
    html = response.get_data(as_text=True)
    select = re.search(rf'<select id="filter-{name}" name="{name}">(.*?)</select>', html, re.S)
    assert select, f"no {name} filter"
    option = re.search(rf'<option value="{slug}"[^>]*>[^<]*</option>', select.group(1))
    assert option, f"no option {slug}"
    return option.group(0)


def count_in(option: str) -> int:
    return int(re.search(r"\((\d+)\)</option>", option).group(1))


def test_only_published_courses_are_listed(client, make_course):
    make_course("Visible course")
    for status in ("draft", "submitted", "rejected", "archived"):
        make_course(f"Hidden {status} course", status=status)
    response = client.get("/courses")
    assert response.status_code == 200
    assert titles(response) == ["Visible course"]
    assert "1 course" in response.get_data(as_text=True)


@pytest.mark.parametrize("status", ["draft", "submitted", "rejected", "archived"])
def test_hidden_course_page_is_404_and_absent_from_provider_page(
    client, make_course, make_provider, status
):
    provider = make_provider(slug="the-provider")
    make_course("Shown", provider=provider, slug="shown")
    make_course("Secret", provider=provider, slug="secret", status=status)
    assert client.get("/courses/secret").status_code == 404
    assert client.get("/courses/shown").status_code == 200
    page = client.get("/providers/the-provider").get_data(as_text=True)
    assert "Shown" in page and "Secret" not in page


def test_filters_combine_and_facets_count_the_current_results(client, make_course):
    make_course("A", step=1, sectors=("criminal-justice",), delivery_mode="in-person")
    make_course("B", step=1, sectors=("housing-homelessness",), delivery_mode="online-live")
    make_course("C", step=2, sectors=("criminal-justice",), delivery_mode="online-live")
    make_course("D", step=2, sectors=(), delivery_mode="online-live")  # open to all sectors
    make_course("E", step=3, sectors=("education",), delivery_mode="blended")

    response = client.get("/courses?sector=criminal-justice")
    assert sorted(titles(response)) == ["A", "C", "D"]
    # step counts within the criminal-justice results
    assert count_in(facet_option(response, "step", "awareness")) == 1
    assert count_in(facet_option(response, "step", "practitioner")) == 2
    assert "disabled" in facet_option(response, "step", "advanced")
    # the sector facet leaves its own filter out: what you would get by switching sector
    assert count_in(facet_option(response, "sector", "housing-homelessness")) == 2  # B + D
    assert count_in(facet_option(response, "sector", "education")) == 2  # E + D
    assert "selected" in facet_option(response, "sector", "criminal-justice")

    response = client.get("/courses?sector=criminal-justice&step=practitioner&mode=online-live")
    assert sorted(titles(response)) == ["C", "D"]
    assert count_in(facet_option(response, "mode", "in-person")) == 0
    assert "disabled" in facet_option(response, "mode", "in-person")
    assert count_in(facet_option(response, "step", "awareness")) == 0
    assert count_in(facet_option(response, "sector", "housing-homelessness")) == 1  # D only


def test_profession_region_programme_and_free_filters(client, make_course, make_programme):
    a = make_course("Nurses in London", professions=("nurse",), region="london", cost_type="free")
    b = make_course(
        "Officers in Wales", professions=("prison-officer",), region="wales",
        cost_type="fee", fee_pence=45000,
    )  # fmt: skip
    make_course("Anyone in Wales", region="wales", cost_type="funded")
    make_programme("The programme", [b, a], slug="the-programme")

    assert sorted(titles(client.get("/courses?profession=nurse"))) == [
        "Anyone in Wales", "Nurses in London",
    ]  # fmt: skip
    assert sorted(titles(client.get("/courses?region=wales"))) == [
        "Anyone in Wales", "Officers in Wales",
    ]  # fmt: skip
    assert titles(client.get("/courses?free=1")) == ["Nurses in London"]
    response = client.get("/courses?programme=the-programme&sort=title")
    assert titles(response) == ["Nurses in London", "Officers in Wales"]
    assert count_in(facet_option(response, "region", "wales")) == 1


def test_past_cohorts_never_count_as_upcoming(client, make_course, make_cohort):
    soon = make_course("Soon")
    make_cohort(soon, days=10)
    later = make_course("Later")
    make_cohort(later, days=60)
    past = make_course("Only in the past")
    make_cohort(past, days=-5)
    running = make_course("Started yesterday, runs on")
    make_cohort(running, days=-1, session_days=(0, 7))

    response = client.get("/courses?weeks=4")
    assert titles(response) == ["Soon"]
    response = client.get("/courses?weeks=12")
    assert titles(response) == ["Soon", "Later"]
    # soonest start first; courses without upcoming dates last, by title
    assert titles(client.get("/courses")) == ["Soon", "Later", "Only in the past",
                                              "Started yesterday, runs on"]  # fmt: skip
    html = client.get("/courses").get_data(as_text=True)
    assert html.count("No upcoming dates") == 2


def test_sort_by_title_and_newest(client, make_course):
    make_course("banana")
    make_course("Apple")
    make_course("cherry")
    assert titles(client.get("/courses?sort=title")) == ["Apple", "banana", "cherry"]
    assert titles(client.get("/courses?sort=newest")) == ["cherry", "Apple", "banana"]


def test_pagination_keeps_every_filter(client, make_course):
    for number in range(25):
        make_course(f"Course {number:02d}", sectors=("education",), step=2)
    make_course("Other sector", sectors=("criminal-justice",), step=2)
    response = client.get("/courses?sector=education&step=practitioner&sort=title&per_page=10")
    html = response.get_data(as_text=True)
    assert "25 courses" in html and "page 1 of 3" in html
    next_link = re.search(r'<a rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    for part in ("sector=education", "step=practitioner", "sort=title", "per_page=10", "page=2"):
        assert part in next_link
    page2 = client.get(next_link)
    assert titles(page2) == [f"Course {n:02d}" for n in range(10, 20)]
    assert "Other sector" not in page2.get_data(as_text=True)


def test_page_beyond_the_last_is_404(client, make_course):
    make_course()
    assert client.get("/courses?page=2").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "sector=no-such-sector",
        "step=9",
        "step=%F0%9F%98%80",
        "sector=%00%01",
        "q=%00drop%20table",
        "weeks=-3",
        "weeks=abc",
        "weeks=99999999999999999999",
        "per_page=-1",
        "per_page=100000",
        "sort=%27%3B--",
        "sector=education&sector=criminal-justice",
        "q=" + "x" * 5000,
        "q=%25%25_%5C",
        "programme=" + "a" * 500,
        "provider=unknown-provider",
        "free=maybe",
    ],
)
def test_odd_filter_values_give_a_clean_page(client, make_course, query):
    make_course("Something", sectors=("education",))
    response = client.get(f"/courses?{query}")
    assert response.status_code == 200
    assert "Browse courses" in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["abc", "0", "-1", "99999999999999999999999", "1e3", "٣"])
def test_odd_page_numbers_give_404_not_500(client, make_course, page):
    make_course()
    assert client.get(f"/courses?page={page}").status_code == 404


def test_unknown_filter_is_named_and_ignored(client, make_course):
    make_course("Something")
    html = client.get("/courses?sector=no-such-sector").get_data(as_text=True)
    assert "no-such-sector" in html and "ignored" in html
    assert "Something" in html


def test_repeated_parameter_uses_the_first(client, make_course):
    make_course("Education course", sectors=("education",))
    make_course("Prison course", sectors=("criminal-justice",))
    response = client.get("/courses?sector=education&sector=criminal-justice")
    assert titles(response) == ["Education course"]


def test_empty_result_says_so_and_offers_a_way_out(client, make_course):
    make_course("Something", step=1)
    html = client.get("/courses?step=leadership").get_data(as_text=True)
    assert "No courses match" in html
    assert 'href="/escalator"' in html


def test_list_page_runs_the_same_number_of_queries_for_10_and_50_results(
    client, make_course, make_cohort, make_programme, count_queries
):
    courses = [
        make_course(f"Course {n}", sectors=("education", "criminal-justice"),
                    professions=("nurse",))
        for n in range(60)
    ]  # fmt: skip
    for course in courses[:30]:
        make_cohort(course, days=20)
    make_programme("Programme", courses[:5])
    # The first browse after a change reads the catalogue snapshot (a fixed number of queries
    # too, whatever the catalogue's size); take it first, so both requests below are measured
    # the same way: neither builds it, and neither is in the result cache.
    client.get("/courses")
    with count_queries() as ten:
        assert len(titles(client.get("/courses?per_page=10&sector=education"))) == 10
    with count_queries() as fifty:
        assert len(titles(client.get("/courses?per_page=50&sector=education"))) == 50
    assert ten.count == fifty.count
    assert ten.count <= 2  # the stamp and the page's courses (their terms are the snapshot's)


def test_a_search_runs_the_same_few_queries_for_10_and_50_results(
    client, indexed, make_course, make_cohort, count_queries
):
    indexed.mode = "off"  # one index pass at the end rather than one per commit
    for n in range(60):
        course = make_course(f"Relational course {n}", sectors=("education",) * (n % 2))
        if n % 3:
            make_cohort(course, days=n)
    indexed.run_once()
    client.get("/courses")  # the snapshot, as above; the searches below are new to the cache
    with count_queries() as ten:
        page = client.get("/courses?q=relational&per_page=10").get_data(as_text=True)
    assert page.count('class="card-title"') == 10  # (titles() misses highlighted ones)
    with count_queries() as fifty:
        page = client.get("/courses?q=relational+course&per_page=50").get_data(as_text=True)
    assert page.count('class="card-title"') == 50
    assert fifty.count <= ten.count <= 2  # the stamp and the page's courses


def test_building_the_snapshot_takes_the_same_queries_for_any_catalogue(
    app, client, make_course, make_cohort, make_programme, count_queries
):
    def first_browse_after_a_change() -> int:
        app.extensions["academy.catalogue.snapshot"].clear()
        with count_queries() as counter:
            assert client.get("/courses?sector=education").status_code == 200
        return counter.count

    course = make_course(sectors=("education",), professions=("nurse",))
    make_cohort(course)
    make_programme("One", [course])
    client.get("/courses")
    few = first_browse_after_a_change()
    for n in range(30):
        course = make_course(sectors=("education", "criminal-justice"), professions=("nurse",))
        make_cohort(course, days=n)
        make_programme(f"Programme {n}", [course])
    assert first_browse_after_a_change() == few <= 3 + 11  # + 5 for the facts, 6 for the terms


def test_browse_service_counts_match_totals(ctx, make_course):
    make_course("One", step=0)
    make_course("Two", step=0)
    make_course("Three", step=4)
    result = browse(Filters(), load_terms())
    step_facet = next(f for f in result.facets if f.name == "step")
    counts = {v.term.number: v.count for v in step_facet.values}
    assert result.total == 3 and counts == {0: 2, 1: 0, 2: 0, 3: 0, 4: 1}
