"""In headless Chromium: share two entries, open the link as a stranger, revoke it, then delete
the account. Every page passes axe-core, on a desktop and on a phone-sized screen."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from academy.extensions import db
from academy.portfolio.evidence_store import new_stored_name, path_for
from academy.portfolio.models import EvidenceFile
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_share_open_revoke_and_delete(
    app, live_server, browser, page, axe_check, make_user, make_entry, tmp_path
):
    app.config["EVIDENCE_DIR"] = str(tmp_path / "evidence")
    learner = make_user("mo@example.org", name="Mo Ibrahim")
    verified = make_entry(
        learner, "Trauma-informed practice", verified=True, provider_name="Provider X", hours=6
    )
    make_entry(learner, "Reading group", method="reading", hours=1.5)
    make_entry(learner, "Not for sharing")
    evidence = EvidenceFile(
        entry_id=verified.id,
        user_id=learner.id,
        stored_name=new_stored_name(),
        filename="certificate.pdf",
        content_type="application/pdf",
        size=9,
        sha256="0" * 64,
    )
    db.session.add(evidence)
    db.session.commit()
    path_for(evidence).write_bytes(b"%PDF-1.4\n")

    page.goto(f"{live_server}/login")
    axe_check(page)
    page.get_by_label("Email address").fill("mo@example.org")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    axe_check(page)

    page.goto(f"{live_server}/portfolio/share")
    axe_check(page)
    page.get_by_role("button", name="Make the link").click()  # nothing chosen
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    axe_check(page)
    page.get_by_label("Trauma-informed practice").check()
    page.get_by_label("Reading group").check()
    page.get_by_label("Label").fill("For my appraisal")
    page.get_by_role("button", name="Make the link").click()
    link = page.get_by_label("Link to send").input_value()
    assert "/shared/" in link
    axe_check(page)

    for viewport in ({"width": 1280, "height": 900}, {"width": 375, "height": 740}):
        stranger = browser.new_context(viewport=viewport)
        shared = stranger.new_page()
        shared.goto(link)
        expect(shared.get_by_role("heading", name="Learning record of Mo Ibrahim")).to_be_visible()
        expect(shared.get_by_text("Verified by Provider X")).to_be_visible()
        expect(shared.get_by_text("Self-recorded", exact=True)).to_be_visible()
        assert shared.get_by_text("Not for sharing").count() == 0
        axe_check(shared)
        stranger.close()

    page.goto(f"{live_server}/portfolio/share")
    page.get_by_role("link", name="Revoke").click()
    expect(page).to_have_url(re.compile(r"/revoke$"))
    axe_check(page)
    page.get_by_role("button", name="Yes, revoke the link").click()
    expect(page.get_by_text("Revoked", exact=True)).to_be_visible()
    page.goto(link)
    expect(page.get_by_role("heading", name="This link is no longer available")).to_be_visible()
    axe_check(page)

    page.goto(f"{live_server}/account/delete")
    axe_check(page)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    axe_check(page)
    page.get_by_label("Your password").fill(TEST_PASSWORD)
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account is deleted")).to_be_visible()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    axe_check(page)
