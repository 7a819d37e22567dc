"""A learner's portfolio in headless Chromium on a phone: the empty state, adding an entry with a
reflection (refused until confirmed, typed text kept), uploading evidence, deleting it after a
confirmation. axe-core checks every page on the way."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.browser.test_provider_loop import log_in

pytestmark = pytest.mark.browser


def test_record_reflect_and_attach_evidence(
    app, live_server, browser, make_user, axe_check, tmp_path
):
    page = log_in(browser, live_server, make_user(name="Rowan Reflects"))
    page.goto(f"{live_server}/my-learning")
    page.get_by_role("link", name="your portfolio").click()
    assert page.get_by_role("heading", name="Your portfolio is empty").is_visible()
    axe_check(page)

    page.get_by_role("link", name="Add an entry").click()
    axe_check(page)
    page.get_by_label("Title", exact=True).fill("Reflective practice group")
    page.get_by_label("Date (or end date)").fill("2026-02-10")
    page.get_by_label("Hours (optional)", exact=True).fill("2")
    page.get_by_label("Of which participatory hours (optional)").fill("2")
    page.get_by_label("What did you learn from it?").fill("Slowing down opens conversations.")
    page.get_by_label("NMC Code: prioritise people").check()
    page.get_by_role("button", name="Save the entry").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    assert page.get_by_label("What did you learn from it?").input_value() == (
        "Slowing down opens conversations."
    )
    axe_check(page)

    page.get_by_label("This reflection contains no information").check()
    page.get_by_role("button", name="Save the entry").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Reflective practice group").is_visible()
    axe_check(page)

    image = tmp_path / "flipchart.png"
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "teal").save(buffer, "PNG")
    image.write_bytes(buffer.getvalue())
    page.get_by_label("Add a file").set_input_files(str(image))
    page.get_by_role("button", name="Upload the file").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="flipchart.png", exact=True).is_visible()

    page.get_by_role("link", name="Delete flipchart.png").click()
    axe_check(page)
    page.get_by_role("button", name="Yes, delete the file").click()
    page.wait_for_load_state()
    assert "No files yet" in page.content()

    page.get_by_role("link", name="Back to all entries").click()
    assert page.get_by_role("link", name="Reflective practice group").is_visible()
    axe_check(page)
