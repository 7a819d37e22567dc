"""In headless Chromium: a learner gets a credential for a verified entry, checks it on the public
verification page, revokes it after confirming, and downloads the PDF. axe-core checks each page,
at phone width."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser
SHOTS = None  # set to a folder path to keep screenshots while developing


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def test_issue_verify_and_revoke_a_credential(
    app, live_server, browser, make_user, make_entry, axe_check
):
    learner = make_user(name="Noor Learner")
    make_entry(
        learner,
        "Trauma-informed practice in housing",
        completed=date(2026, 3, 2),
        verified=True,
        provider_name="Northern Housing Trust",
        hours=6,
    )
    make_entry(learner, "Reading group on belonging", completed=date(2026, 4, 1))
    context = browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    axe_check(page)
    page.get_by_label("Email address").fill(learner.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    axe_check(page)

    page.goto(f"{live_server}/portfolio/export")
    axe_check(page)
    shot(page, "exports-empty")
    page.get_by_role(
        "button", name="Get a credential for Trauma-informed practice in housing"
    ).click()
    page.wait_for_load_state()
    expect(page.get_by_text("Credential issued")).to_be_visible()
    axe_check(page)
    shot(page, "exports-issued")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the credential").click()
    token = Path(download.value.path()).read_text()

    public = context.new_page()
    public.goto(f"{live_server}/credentials/verify")
    axe_check(public)
    public.get_by_label("Paste the credential").fill(token)
    public.get_by_role("button", name="Check").click()
    public.wait_for_load_state()
    expect(public.get_by_role("heading", name="Valid")).to_be_visible()
    axe_check(public)
    shot(public, "verify-valid")

    page.get_by_role("link", name="Revoke the credential").click()
    page.wait_for_load_state()
    axe_check(page)
    page.get_by_label("Reason (optional)").fill("Shared by mistake")
    page.get_by_role("button", name="Yes, revoke it").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Shared by mistake")).to_be_visible()

    public.get_by_label("Paste the credential").fill(token)
    public.get_by_role("button", name="Check").click()
    public.wait_for_load_state()
    expect(public.get_by_role("heading", name="Revoked")).to_be_visible()
    expect(public.get_by_text("Shared by mistake")).to_be_visible()
    shot(public, "verify-revoked")

    with page.expect_download() as download:
        page.get_by_role("link", name="Printable summary (PDF)").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    context.close()
