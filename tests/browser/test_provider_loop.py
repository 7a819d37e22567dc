"""The whole loop in headless Chromium: a provider registers an organisation, a curator
verifies it, the provider lists a course with a cohort and submits it, the curator approves,
a learner finds it in search and enrols, the provider records the completion, and the learner
sees it verified. axe-core checks the provider and curator pages on the way."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def log_in(browser, live_server, user, axe_check):
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = context.new_page()
    page.goto(f"{live_server}/login")
    axe_check(page)
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    axe_check(page)
    return page


def the_course_runs(app, cohort_id: int) -> None:
    """Time passes: the cohort's sessions move into the past, so completion may be marked."""
    from datetime import timedelta

    from academy.catalogue.models import Cohort
    from academy.db_types import utcnow
    from academy.extensions import db

    with app.app_context():
        cohort = db.session.get(Cohort, cohort_id)
        shift = cohort.ends_at - utcnow() + timedelta(days=1)
        for session in cohort.sessions:
            session.starts_at -= shift
            session.ends_at -= shift
        db.session.commit()


def test_provider_to_learner_full_loop(app, live_server, browser, make_user, axe_check):
    provider_user = make_user(name="Priya Provider")
    curator_user = make_user(name="Cara Curator", curator=True)
    learner_user = make_user(name="Lee Learner")

    provider = log_in(browser, live_server, provider_user, axe_check)
    provider.goto(f"{live_server}/provider/new")
    axe_check(provider)
    provider.get_by_label("Organisation name").fill("Moorland Relational Trust")
    provider.get_by_label("Contact email address").fill("hello@moorland.example.org")
    provider.get_by_role("button", name="Register organisation").click()
    provider.wait_for_load_state()
    expect(provider.get_by_role("heading", name="Moorland Relational Trust")).to_be_visible()
    assert "Not verified yet" in provider.content()
    axe_check(provider)

    curator = log_in(browser, live_server, curator_user, axe_check)
    curator.goto(f"{live_server}/curation/providers")
    axe_check(curator)
    curator.get_by_role("button", name="Verify Moorland Relational Trust").click()
    curator.wait_for_load_state()
    assert "is verified" in curator.content()

    provider.get_by_role("link", name="Add a course").click()
    expect(provider.get_by_label("Your reference")).to_be_visible()
    axe_check(provider)
    provider.get_by_label("Your reference").fill("MRT-01")
    provider.get_by_label("Title", exact=True).fill("Heathland listening circles")
    provider.get_by_label("Summary", exact=True).fill("Relational listening on the moor.")
    provider.get_by_label("Escalator step").select_option(label="Awareness")
    provider.get_by_role("button", name="Save as draft").click()
    provider.wait_for_load_state()
    expect(provider.get_by_role("heading", name="Heathland listening circles")).to_be_visible()
    axe_check(provider)
    course_url = provider.url

    provider.get_by_role("link", name="Add a cohort").click()
    provider.wait_for_load_state()
    axe_check(provider)
    provider.get_by_label("Places", exact=True).fill("12")
    provider.get_by_label("Place", exact=True).fill("Village hall, Haworth")
    provider.get_by_label("Date", exact=True).fill("2027-05-14")
    provider.get_by_label("Starts at").fill("09:30")
    provider.get_by_label("Ends at").fill("16:00")
    provider.get_by_role("button", name="Add cohort").click()
    provider.wait_for_load_state()
    assert "The cohort is added" in provider.content()
    axe_check(provider)
    cohort_url = provider.url

    provider.goto(course_url)
    provider.get_by_role("button", name="Submit for review").click()
    provider.wait_for_load_state()
    assert "Waiting for review" in provider.content()

    curator.goto(f"{live_server}/curation")
    axe_check(curator)
    curator.get_by_role("link", name="Heathland listening circles").click()
    expect(curator.get_by_role("button", name="Approve and publish")).to_be_visible()
    axe_check(curator)
    curator.get_by_role("button", name="Approve and publish").click()
    curator.wait_for_load_state()
    assert "is published" in curator.content()
    curator.goto(f"{live_server}/curation/audit")
    axe_check(curator)
    assert "Approved Heathland listening circles" in curator.content()

    learner = log_in(browser, live_server, learner_user, axe_check)
    learner.goto(f"{live_server}/courses?q=heathland+listening")
    axe_check(learner)
    learner.get_by_role("link", name="Heathland listening circles").first.click()
    learner.wait_for_load_state()
    axe_check(learner)
    learner.get_by_role("link", name=re.compile(r"^Enrol on")).first.click()
    learner.wait_for_load_state()
    axe_check(learner)  # check your answers
    learner.get_by_role("button", name="Confirm and enrol").click()
    learner.wait_for_load_state()
    assert "You have a place." in learner.locator(".state").inner_text()
    axe_check(learner)

    the_course_runs(app, int(cohort_url.rstrip("/").rsplit("/", 1)[1]))
    provider.goto(cohort_url)
    provider.get_by_label("Select Lee Learner").check()
    provider.get_by_label("Completed").check()
    provider.get_by_role("button", name="Save marks").click()
    provider.wait_for_load_state()
    assert "1 learner marked" in provider.content()
    axe_check(provider)

    learner.goto(f"{live_server}/my-learning")
    axe_check(learner)
    record = learner.locator("#record")
    assert "Verified completion" in record.inner_text()
    assert "Confirmed by Priya Provider of Moorland Relational Trust" in record.inner_text()
