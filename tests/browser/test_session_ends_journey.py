"""The session ends while a learner is typing a reflection (they log out in another tab): the
save is refused, but nothing typed is lost. After logging in again the form is back as they
left it, and saving works. axe-core checks every page on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from academy.extensions import db
from academy.portfolio.models import LearningRecordEntry
from tests.browser.test_provider_loop import log_in
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

REFLECTION = "I noticed how much slowing down changed the conversation. " * 30


def test_a_reflection_typed_as_the_session_ends_is_kept_and_saved(
    app, live_server, browser, make_user, axe_check
):
    learner = make_user(name="Tess Typing")
    learner.regulator = "nmc"
    db.session.commit()
    page = log_in(browser, live_server, learner, axe_check)
    page.goto(f"{live_server}/portfolio/entries/new")
    axe_check(page)
    page.get_by_label("Title", exact=True).fill("Slowing down")
    page.get_by_label("Date (or end date)").fill("3/2/2026")
    page.get_by_label("What did you learn from it?").fill(REFLECTION)
    page.get_by_label("This reflection contains no information").check()
    left = 10_000 - len(REFLECTION)
    expect(page.locator("#learnt-limit")).to_contain_text(f"{left:,} characters left")

    other_tab = page.context.new_page()  # the same browser: logging out there ends this session
    other_tab.goto(f"{live_server}/my-learning")
    other_tab.get_by_role("button", name="Log out").click()
    other_tab.wait_for_load_state()
    axe_check(other_tab)
    other_tab.close()

    page.get_by_role("button", name="Save the entry").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Your session had ended")).to_be_visible()
    assert page.title().startswith("Error: ")
    assert "slowing down" not in page.url.lower()
    axe_check(page)
    assert db.session.scalar(select(LearningRecordEntry.id)) is None

    page.get_by_role("link", name="Log in again and go back to the form").click()
    page.wait_for_load_state()
    axe_check(page)
    page.get_by_label("Email address").fill(learner.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/portfolio/entries/new$"))
    expect(page.get_by_text("What you typed before your session ended is back")).to_be_visible()
    assert page.get_by_label("Title", exact=True).input_value() == "Slowing down"
    assert page.get_by_label("What did you learn from it?").input_value() == REFLECTION.strip()
    axe_check(page)

    page.get_by_role("button", name="Save the entry").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Slowing down")).to_be_visible()
    axe_check(page)
    db.session.expire_all()
    entry = db.session.scalars(select(LearningRecordEntry)).one()
    assert entry.learnt == REFLECTION.strip() and entry.reflection_confirmed_at is not None
