"""Versions in a real browser: a provider edits a published course; the public page, search and
API keep the approved text while the provider sees the edit waiting; the curator rejects it with
a reason, the public course is unchanged and the provider is mailed the reason; a new edit is
approved and is public in page, search and API within 2 seconds."""

from __future__ import annotations

import time

import pytest
import requests
from playwright.sync_api import expect

from academy.db_types import utcnow
from academy.extensions import db
from academy.mail.outbox import send_pending
from tests.browser.test_provider_loop import log_in

pytestmark = pytest.mark.browser


def public_texts(live_server: str, course) -> tuple[str, str, str]:
    """The public page, the search results for the edited words and the API's summary."""
    page = requests.get(f"{live_server}/courses/{course.slug}", timeout=10).text
    search = requests.get(f"{live_server}/courses", params={"q": "herons"}, timeout=10).text
    api = requests.get(f"{live_server}/api/v1/courses/{course.id}", timeout=10).json()
    return page, search, api["summary"]


def edit_summary(provider, course_url: str, text: str, axe_check) -> None:
    provider.goto(course_url)
    provider.get_by_role("link", name="Edit the course").or_(
        provider.get_by_role("link", name="Change your edit")
    ).click()
    provider.wait_for_load_state()
    axe_check(provider)
    provider.get_by_label("Summary", exact=True).fill(text)
    provider.get_by_role("button", name="Save changes").click()
    provider.wait_for_load_state()


def test_an_edit_waits_is_rejected_then_approved(
    app, live_server, browser, make_provider, make_course, make_user, axe_check, smtp_server
):
    trust = make_provider("Kestrel Trust", slug="kestrel-trust", verified_at=utcnow())
    staff = make_user("sam@kestrel.example", name="Sam Staff", staff_of=trust, admin=True)
    curator_user = make_user(name="Cara Curator", curator=True)
    course = make_course(
        "Listening on the estuary",
        provider=trust,
        slug="listening-on-the-estuary",
        summary="Approved words about kestrels.",
    )
    course_url = f"{live_server}/provider/kestrel-trust/courses/{course.id}"

    provider = log_in(browser, live_server, staff, axe_check)
    edit_summary(provider, course_url, "Pending words about herons.", axe_check)
    axe_check(provider)
    assert "Published, edit waiting for review" in provider.content()
    assert "herons" in provider.locator("#waiting").locator("..").inner_text()
    assert "Add a cohort" in provider.content()  # cohorts stay reachable

    page, search, summary = public_texts(live_server, course)
    assert "kestrels" in page and "herons" not in page
    assert "Listening on the estuary" not in search
    assert summary == "Approved words about kestrels."

    curator = log_in(browser, live_server, curator_user, axe_check)
    curator.goto(f"{live_server}/curation")
    axe_check(curator)
    curator.get_by_role("link", name="Listening on the estuary").click()
    curator.wait_for_load_state()
    axe_check(curator)
    assert "What the edit changes on the live course" in curator.content()
    curator.get_by_label("Reason").fill("Herons are off topic for this course.")
    curator.get_by_role("button", name="Reject the edit (the live version stays)").click()
    curator.wait_for_load_state()
    assert "is sent back to the provider" in curator.content()

    page, search, summary = public_texts(live_server, course)
    assert "kestrels" in page and summary == "Approved words about kestrels."
    with app.app_context():
        send_pending()
        db.session.remove()
    [mail] = [m for m in smtp_server.messages if m["To"] == "sam@kestrel.example"]
    assert "Herons are off topic for this course." in mail.get_content()
    assert f"/provider/kestrel-trust/courses/{course.id}" in mail.get_content()

    provider.goto(course_url)
    assert "Herons are off topic for this course." in provider.content()
    edit_summary(provider, course_url, "Reviewed words about herons.", axe_check)
    assert "Published, edit waiting for review" in provider.content()

    curator.goto(f"{live_server}/curation")
    curator.get_by_role("link", name="Listening on the estuary").click()
    curator.wait_for_load_state()
    assert "Earlier reasons given" in curator.content()
    curator.get_by_role("button", name="Approve the edit").click()
    curator.wait_for_load_state()
    assert "is published with the edit" in curator.content()
    axe_check(curator)

    deadline = time.monotonic() + 2
    while True:
        page, search, summary = public_texts(live_server, course)
        public = "Reviewed words about herons." in page and summary.startswith("Reviewed")
        if public and "Listening on the estuary" in search:
            break
        assert time.monotonic() < deadline, "the approved edit was not public within 2 seconds"
    provider.goto(course_url)
    expect(provider.get_by_text("Published", exact=True)).to_be_visible()
    axe_check(provider)
