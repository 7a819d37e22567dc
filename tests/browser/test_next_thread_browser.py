"""Keeping the thread in Chromium: from a cohort on a course page, through log-in or through
registration and the confirmation mail, back to that cohort (issue 16, item 6)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from academy.extensions import db
from academy.mail.models import OutboxMessage
from tests.browser.test_learner_journey import open_course
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def first_cohort_anchor(page) -> str:
    link = page.get_by_role("link", name=re.compile(r"^Log in to")).first
    return re.search(r"cohort-\d+", link.get_attribute("href").replace("%23", "#")).group(0)


def test_log_in_to_enrol_comes_back_to_the_cohort(app, live_server, page, make_user, axe_check):
    user = make_user()
    _, slug = open_course(app)
    page.goto(f"{live_server}/courses/{slug}")
    axe_check(page)
    anchor = first_cohort_anchor(page)
    page.get_by_role("link", name=re.compile(r"^Log in to")).first.click()
    page.wait_for_load_state()
    axe_check(page)
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    axe_check(page)
    assert page.url == f"{live_server}/courses/{slug}#{anchor}"


def test_create_an_account_comes_back_to_the_cohort_after_the_mail(
    app, live_server, page, axe_check
):
    _, slug = open_course(app)
    page.goto(f"{live_server}/courses/{slug}")
    axe_check(page)
    anchor = first_cohort_anchor(page)
    page.get_by_role("link", name="create an account").first.click()
    page.wait_for_load_state()
    axe_check(page)
    page.get_by_label("Full name").fill("Robin Ash")
    page.get_by_label("Email address").fill("robin@example.org")
    page.get_by_label("Password").fill("copper meadow lantern")
    page.get_by_role("button", name="Create account").click()
    page.wait_for_load_state()
    axe_check(page)
    with app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body).where(OutboxMessage.kind == "confirm_email")
        )
    link = re.search(r"http://\S+", body).group(0)
    page.goto(re.sub(r"^http://[^/]+", live_server, link))
    page.wait_for_load_state()
    axe_check(page)
    assert page.url == f"{live_server}/courses/{slug}#{anchor}"
