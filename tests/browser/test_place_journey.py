"""Issue 14: a learner enrols through the page that shows the cost and who pays, is offered a
move when they try a second cohort of the same course, and withdraws through its confirm page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_enrol_be_offered_a_move_and_withdraw_after_checking(
    app, live_server, page, axe_check, make_provider, make_course, make_cohort, make_user
):
    provider = make_provider("Fellside Practice Network")
    course = make_course(
        "Mentalization in practice", provider=provider, cost_type="fee", fee_pence=65000
    )
    make_cohort(course, days=20)
    make_cohort(course, days=50)
    learner = make_user(name="Robin Ash")
    slug, email = course.slug, learner.email

    page.goto(f"{live_server}/login")
    axe_check(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    axe_check(page)

    page.goto(f"{live_server}/courses/{slug}")
    axe_check(page)
    page.get_by_role("link", name=re.compile(r"^Enrol on")).first.click()
    expect(page.get_by_role("heading", name="Check before you enrol")).to_be_visible()
    cost = page.locator(".cost").inner_text()
    assert "£650" in cost and "You, or your employer, pay Fellside Practice Network" in cost
    axe_check(page)
    page.get_by_label("Access needs").fill("A seat near the door")
    page.get_by_role("button", name="Confirm and enrol").click()
    page.wait_for_load_state()
    assert "You have a place." in page.locator(".state").inner_text()
    axe_check(page)

    page.goto(f"{live_server}/courses/{slug}")
    axe_check(page)
    page.get_by_role("link", name=re.compile(r"^Enrol on")).first.click()  # the other cohort
    page.wait_for_load_state()
    expect(page.get_by_role("button", name="Move my place to this cohort")).to_be_visible()
    assert page.get_by_role("button", name="Confirm and enrol").count() == 0
    axe_check(page)
    page.get_by_role("link", name="Keep my current place").click()
    page.wait_for_load_state()
    axe_check(page)

    page.get_by_role("link", name="Withdraw from this cohort").click()
    page.wait_for_load_state()
    assert "Nobody is waiting" in page.locator(".what-happens").inner_text()
    axe_check(page)
    page.get_by_role("button", name="Yes, withdraw from this cohort").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="My learning")).to_be_visible()
    assert "Your place is free for someone else to take" in page.content()
    axe_check(page)
