"""The portfolio dashboard and regulator views in headless Chromium: axe-core on each page, a
strict Content-Security-Policy that would refuse any inline style or script, a phone's width,
and the print layout without the site's menus."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import expect

from academy.extensions import db
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

STRICT_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'"
PAGES = (
    "/portfolio/dashboard",
    "/portfolio/regulator/nmc",
    "/portfolio/regulator/hcpc",
    "/portfolio/regulator/swe",
    "/portfolio/regulator/rcpsych",
)


def test_dashboard_and_regulator_views_pass_axe_and_a_strict_csp(
    app, live_server, browser, make_user, make_entry, axe_check
):
    @app.after_request
    def strict_policy(response):
        response.headers["Content-Security-Policy"] = STRICT_CSP
        return response

    user = make_user(name="Noor Nurse")
    user.regulator = "nmc"
    db.session.commit()
    make_entry(
        user,
        "Reflective practice group",
        completed=date(2025, 3, 10),
        hours=7,
        participatory_hours=7,
        method="reflective-practice",
        relevance="Team reflection",
        themes=["nmc-practise-effectively"],
        principles=["belonging-connection"],
        is_reflective_account=True,
        reflection_confirmed_at=datetime(2025, 3, 11, tzinfo=UTC),
        learnt="How my responses shape the room.",
    )
    make_entry(user, "Reading", completed=date(2025, 9, 1), hours=3, clinical=False)

    context = browser.new_context()
    page = context.new_page()
    refused = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server}/login")
    axe_check(page)
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    axe_check(page)
    for path in PAGES:  # axe_check covers desktop and phone widths and sideways scrolling
        page.goto(f"{live_server}{path}")
        axe_check(page)
    assert refused == []

    page.goto(f"{live_server}/portfolio/regulator")  # the profile's regulator: NMC
    axe_check(page)
    expect(page.get_by_role("heading", name="NMC revalidation", level=1)).to_be_visible()
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert not page.get_by_role("navigation", name="Regulator views").is_visible()
    expect(page.get_by_text("Printed on")).to_be_visible()
    expect(page.get_by_role("table", name="Record of CPD activities")).to_be_visible()
    context.close()
