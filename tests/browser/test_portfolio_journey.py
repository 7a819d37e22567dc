"""A learner's portfolio in headless Chromium on a phone: the empty state, adding an entry with a
reflection (refused until confirmed, typed text kept), uploading evidence, the dashboard, the NMC
view, the PDF summary, then deleting the evidence after a confirmation. axe-core checks every
page on the way, at phone and desktop widths."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from academy.extensions import db
from tests.browser.test_provider_loop import log_in

pytestmark = pytest.mark.browser


def test_record_reflect_and_attach_evidence(
    app, live_server, browser, make_user, axe_check, tmp_path
):
    learner = make_user(name="Rowan Reflects")
    learner.regulator = "nmc"
    db.session.commit()
    page = log_in(browser, live_server, learner, axe_check)
    page.goto(f"{live_server}/my-learning")
    page.get_by_role("link", name="your portfolio").click()
    expect(page.get_by_role("heading", name="Your portfolio is empty")).to_be_visible()
    axe_check(page)

    page.get_by_role("link", name="Add an entry").click()
    expect(page).to_have_url(re.compile(r"/portfolio/entries/new$"))
    axe_check(page)
    page.get_by_label("Title", exact=True).fill("Reflective practice group")
    page.get_by_label("Date (or end date)").fill("2026-02-10")
    page.get_by_label("Hours (optional)", exact=True).fill("2")
    page.get_by_label("Of which participatory hours (optional)").fill("2")
    page.get_by_label("What did you learn from it?").fill("Slowing down opens conversations.")
    page.get_by_label("NMC Code: prioritise people").check()
    page.get_by_role("button", name="Save the entry").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert page.get_by_label("What did you learn from it?").input_value() == (
        "Slowing down opens conversations."
    )
    axe_check(page)

    page.get_by_label("This reflection contains no information").check()
    page.get_by_role("button", name="Save the entry").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Reflective practice group")).to_be_visible()
    axe_check(page)

    image = tmp_path / "flipchart.png"
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(buffer, "PNG")
    image.write_bytes(buffer.getvalue())
    page.get_by_label("Add a file").set_input_files(str(image))
    page.get_by_role("button", name="Upload the file").click()
    page.wait_for_load_state()
    expect(page.get_by_role("link", name="flipchart.png", exact=True)).to_be_visible()
    axe_check(page)
    entry_url = page.url

    portfolio = page.get_by_role("navigation", name="Portfolio sections")
    portfolio.get_by_role("link", name="Dashboard").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/portfolio/dashboard$"))
    assert page.locator("svg[role=img]").count() >= 2
    axe_check(page)

    portfolio.get_by_role("link", name="Regulator view").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="NMC revalidation", level=1)).to_be_visible()
    assert "Reflective practice group" in page.locator("main").inner_text()
    axe_check(page)

    portfolio.get_by_role("link", name="Export and credentials").click()
    page.wait_for_load_state()
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Printable summary (PDF)").click()
    text = "".join(p.extract_text() for p in PdfReader(download.value.path()).pages)
    assert "Reflective practice group" in text and "Rowan Reflects" in text

    page.goto(entry_url)

    page.get_by_role("link", name="Delete flipchart.png").click()
    expect(page.get_by_role("button", name="Yes, delete the file")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Yes, delete the file").click()
    page.wait_for_load_state()
    assert "No files yet" in page.content()

    page.get_by_role("link", name="Back to all entries").click()
    expect(page.get_by_role("link", name="Reflective practice group")).to_be_visible()
    axe_check(page)
