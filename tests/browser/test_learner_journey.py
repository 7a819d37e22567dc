"""A new learner in headless Chromium: register, find a course, enrol, My learning, .ics."""

from __future__ import annotations

import re

import pytest
from icalendar import Calendar
from playwright.sync_api import expect
from sqlalchemy import select

from academy.catalogue.models import Cohort
from academy.db_types import utcnow
from academy.enrolment.services import closes_at
from academy.extensions import db
from academy.mail.models import OutboxMessage

pytestmark = pytest.mark.browser


def open_course(app) -> tuple[str, str]:
    """A published course without prerequisites whose next cohort takes enrolments."""
    with app.app_context():
        now = utcnow()
        for cohort in db.session.scalars(select(Cohort).order_by(Cohort.id)):
            course = cohort.course
            deadline = closes_at(cohort)
            if (
                course.is_published
                and not course.prerequisites
                and not cohort.is_full
                and deadline is not None
                and deadline > now
            ):
                return course.title, course.slug
    pytest.skip("the seed has no open cohort")


def test_register_enrol_and_download_the_calendar(app, live_server, page, axe_check):
    page.goto(f"{live_server}/register")
    axe_check(page)
    page.get_by_label("Email address").fill("robin@example")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert page.get_by_label("Email address").input_value() == "robin@example"  # kept
    axe_check(page)
    page.get_by_label("Full name").fill("Robin Ash")
    page.get_by_label("Email address").fill("robin@example.org")
    page.get_by_label("Password").fill("copper meadow lantern")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    with app.app_context():
        body = db.session.scalar(
            select(OutboxMessage.body).where(OutboxMessage.kind == "confirm_email")
        )
    link = re.search(r"http://\S+", body).group(0)
    page.goto(re.sub(r"^http://[^/]+", live_server, link))
    expect(page.get_by_role("heading", name="My learning")).to_be_visible()
    axe_check(page)

    title, slug = open_course(app)
    page.goto(f"{live_server}/courses/{slug}")
    axe_check(page)
    page.get_by_role("link", name=re.compile(r"^Enrol on")).first.click()
    page.wait_for_load_state()
    axe_check(page)  # check your answers
    page.get_by_role("button", name="Confirm and enrol").click()
    page.wait_for_load_state()
    assert "You have a place." in page.locator(".state").inner_text()
    axe_check(page)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My learning").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    axe_check(page)

    page.get_by_role("link", name=title).first.click()
    page.wait_for_load_state()
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download the dates")).click()
    with open(download.value.path(), "rb") as handle:
        calendar = Calendar.from_ical(handle.read())
    assert len(list(calendar.walk("VEVENT"))) >= 1

    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    axe_check(page)
