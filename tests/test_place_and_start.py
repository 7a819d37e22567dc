"""Place means place: a region includes the UK-wide and online courses (and says so), with a
choice of only the region itself, and counts that follow; self-paced courses say "Start any
time" on cards, recommendations and the course page."""

from __future__ import annotations

import re

import pytest

from academy.catalogue.browse import Filters, browse, load_terms


def titles(response) -> list[str]:
    html = response.get_data(as_text=True)
    return re.findall(r'<h3 class="card-title"><a href="[^"]+">([^<]+)</a>', html)


def region_count(response, slug: str) -> int:
    html = response.get_data(as_text=True)
    option = re.search(rf'<option value="{slug}"[^>]*>([^<]*)</option>', html).group(1)
    return int(re.search(r"\((\d+)\)", option).group(1))


@pytest.fixture
def places(make_course):
    make_course("In London", region="london")
    make_course("Across the UK", region="uk-wide")
    make_course("Online from Scotland", region="scotland", delivery_mode="online-live")
    make_course("Self-paced anywhere", region=None, delivery_mode="online-self-paced")
    make_course("In Scotland", region="scotland")
    make_course("In Wales", region="wales", delivery_mode="blended")


def test_a_region_lists_its_own_uk_wide_and_online_courses_and_says_so(client, places):
    response = client.get("/courses?region=london&sort=title")
    assert titles(response) == [
        "Across the UK", "In London", "Online from Scotland", "Self-paced anywhere",
    ]  # fmt: skip
    page = response.get_data(as_text=True)
    assert "Showing courses in London, UK-wide and online." in page
    assert "region=london&amp;region_only=1" in page
    # each region's count is what choosing it shows: its own, plus the 3 open to everyone
    assert region_count(response, "london") == 4
    assert region_count(response, "scotland") == 4  # In Scotland + the 3 (online one counted once)
    assert region_count(response, "wales") == 4
    assert region_count(response, "uk-wide") == 3


def test_only_the_region_itself_when_asked(client, places):
    response = client.get("/courses?region=scotland&region_only=1&sort=title")
    assert titles(response) == ["In Scotland", "Online from Scotland"]
    page = response.get_data(as_text=True)
    assert "Showing only courses in Scotland." in page
    assert region_count(response, "scotland") == 2
    assert region_count(response, "london") == 1
    assert 'id="filter-region-only" type="checkbox" name="region_only" value="1"' in page


def test_only_without_a_region_means_nothing(client, places):
    assert len(titles(client.get("/courses?region_only=1"))) == 6


def test_the_api_follows_the_same_rule(client, places):
    wide = client.get("/api/v1/courses?region=london").get_json()
    only = client.get("/api/v1/courses?region=london&region_only=1").get_json()
    assert wide["total"] == 4 and only["total"] == 1


def test_browse_counts_match_for_every_region(ctx, places):
    terms = load_terms()
    everything = browse(Filters(), terms)
    for region in terms.by_facet["region"]:
        shown = browse(Filters(region=region.slug, per_page=50), terms)
        counted = next(f for f in everything.facets if f.name == "region")
        value = next(v for v in counted.values if v.term.slug == region.slug)
        assert value.count == shown.total, region.slug


def test_self_paced_courses_say_start_any_time_everywhere(client, make_course, make_user, login):
    course = make_course("Self-paced basics", delivery_mode="online-self-paced", step=0)
    make_course("Classroom basics", step=0)
    cards = client.get("/courses").get_data(as_text=True)
    assert cards.count("Start any time") == 1 and cards.count("No upcoming dates") == 1
    page = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    glance = page.split('id="facts-heading"')[1].split("</aside>")[0]
    assert "Start any time" in glance
    assert page.index('id="facts-heading"') < page.index("Dates and places")  # under the title
    login(client, make_user())
    dashboard = client.get("/portfolio/dashboard").get_data(as_text=True)
    assert "Start any time." in dashboard.split('id="next-heading"')[1]
