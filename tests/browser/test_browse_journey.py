"""A learner browses in real headless Chromium: filter, open a course, see the escalator.

axe-core checks every page visited, at desktop and phone widths.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_learner_filters_opens_a_course_and_the_escalator(live_server, page, axe_check):
    page.goto(f"{live_server}/courses")
    axe_check(page)
    total = int(re.match(r"\s*(\d+)", page.locator("#results-heading").inner_text()).group(1))
    assert total >= 60

    page.get_by_label("Sector").select_option("criminal-justice")
    page.get_by_label("Escalator step").select_option("awareness")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    assert "sector=criminal-justice" in page.url and "step=awareness" in page.url
    axe_check(page)
    filtered = int(re.match(r"\s*(\d+)", page.locator("#results-heading").inner_text()).group(1))
    assert 0 < filtered < total
    badges = page.locator(".course-card .badge").all_inner_texts()
    assert badges and all(b == "Step 1: Awareness" for b in badges)

    first = page.locator(".course-card h3 a").first
    title = first.inner_text()
    first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == title
    expect(page.get_by_role("heading", name="Dates and places")).to_be_visible()
    axe_check(page)

    page.get_by_role("link", name="Escalator", exact=True).click()
    page.wait_for_load_state()
    axe_check(page)
    page.get_by_label("Show the escalator for").select_option("criminal-justice")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "sector=criminal-justice" in page.url
    assert page.locator(".rung").count() == 5
    axe_check(page)


def test_learner_searches_from_the_home_page(live_server, page, axe_check):
    page.goto(live_server)
    axe_check(page)
    page.get_by_label("Search for training").fill("personality disorder prison")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert "q=personality+disorder+prison" in page.url
    first = page.locator(".course-card h3").first.inner_text()
    assert "Personality Disorder" in first or "KUF" in first
    assert page.locator(".course-card mark").count() > 0
    axe_check(page)
    page.goto(f"{live_server}/courses?q=psycology")
    assert "No courses matched “psycology”" in page.locator("main").inner_text()
    axe_check(page)


def test_key_pages_work_at_phone_width(live_server, browser, axe_check):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        for path in ("/", "/courses", "/escalator", "/programmes", "/providers"):
            page.goto(f"{live_server}{path}")
            axe_check(page)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth > document.documentElement.clientWidth"
            )
            assert not overflow, f"{path} scrolls sideways at phone width"
        page.goto(f"{live_server}/courses")
        page.locator(".course-card h3 a").first.click()
        page.wait_for_load_state()
        axe_check(page)
    finally:
        context.close()
