"""Every page each role can reach, at 320 px and 1280 px: the page never scrolls sideways, and
axe-core (WCAG 2.2 A and AA, and its best-practice rules) finds nothing at all, whatever the
impact.

The crawl starts from each role's home pages and follows every link on this site it finds
(GET only: forms are not sent), taking at most ``PER_PATTERN`` addresses of one shape (one
course page stands for all courses) so the crawl covers every kind of page in minutes.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urljoin, urlsplit

import pytest

from academy.extensions import db
from academy.portfolio import sharing
from academy.portfolio.models import LearningRecordEntry
from tests.browser.conftest import Journey
from tests.browser.test_provider_loop import log_in as log_in_with_checks

pytestmark = pytest.mark.browser

WIDTHS = ({"width": 320, "height": 720}, {"width": 1280, "height": 900})
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
#: the smallest chart label as drawn on screen, in CSS pixels (null without charts)
SMALLEST_CHART_TEXT = """() => {
  const sizes = [...document.querySelectorAll('svg.chart text')].map(
    t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
  return sizes.length ? Math.min(...sizes) : null;
}"""
PER_PATTERN = 2
MAX_PAGES = 70
#: downloads and feeds are not pages; logging out is a form
SKIP = re.compile(
    r"\.(pdf|csv|json|zip|ics|jwt|atom|txt|png|jpe?g)$|^/static/|^/api/|^/healthz|/evidence/\d+$"
)


def shape(url: str) -> str:
    """``/courses/some-course?page=2`` → ``/courses/S?page``: one address per kind of page."""
    parts = urlsplit(url)
    path = re.sub(r"/\d+", "/N", parts.path)
    path = re.sub(r"^/(courses|programmes|providers|shared|credentials)/[^/]+", r"/\1/S", path)
    path = re.sub(r"^/provider/(?!new$|import)[^/]+", "/provider/S", path)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return path + ("?" + "&".join(keys) if keys else "")


def crawl(page, base: str, starts: list[str], axe, journey) -> list[str]:
    """Visit every page reachable from ``starts``; return the problems found."""
    queue, seen_shapes, seen, problems = [urljoin(base, s) for s in starts], {}, set(), []
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0).split("#")[0]
        key = shape(url.removeprefix(base))
        if url in seen or seen_shapes.get(key, 0) >= PER_PATTERN:
            continue
        seen.add(url)
        seen_shapes[key] = seen_shapes.get(key, 0) + 1
        response = page.goto(url)
        if response is None or response.status >= 500:
            problems.append(f"{url}: status {response and response.status}")
            continue
        for size in WIDTHS:
            page.set_viewport_size(size)
            wide = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if wide > 0:
                problems.append(f"{url} at {size['width']} px scrolls sideways by {wide} px")
            smallest = page.evaluate(SMALLEST_CHART_TEXT)
            if smallest is not None and smallest < 12:
                problems.append(f"{url} at {size['width']} px: chart text {smallest:.1f} px")
            results = axe.run(page, options=AXE_OPTIONS).response
            for violation in results["violations"]:
                targets = "; ".join(str(n["target"][0]) for n in violation["nodes"][:3])
                problems.append(
                    f"{url} at {size['width']} px: {violation['id']} ({violation['impact']}):"
                    f" {violation['help']} — {targets}"
                )
        journey.checked.add(Journey.key(page.url))
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
            href = href.split("#")[0]
            if href.startswith(base) and not SKIP.search(urlsplit(href).path):
                queue.append(href)
    return problems


@pytest.fixture
def people(app, live_server, make_user, make_entry, make_evidence):
    """A learner with a portfolio, a provider's admin and a curator, on the seeded catalogue."""
    from sqlalchemy import select

    from academy.catalogue.models import Cohort
    from academy.enrolment.models import Enrolment
    from academy.providers.models import Provider

    learner = make_user(name="Crawl Learner")
    learner.regulator = "nmc"
    entry = make_entry(learner, "Listening well", completed=date(2026, 2, 3), hours=2)
    entry.relevance = "A reflection long enough to wrap " * 8
    entry.reflection_confirmed_at = entry.completed_at
    make_evidence(entry)
    make_entry(learner, "Verified course", verified=True, completed=date(2025, 11, 4), hours=6)
    db.session.commit()
    _link, token = sharing.create_link(
        learner,
        [entry.id],
        label="For my appraisal",
        expires_on=sharing.today().replace(day=28),
    )
    cohort = db.session.scalars(select(Cohort).where(Cohort.status == "scheduled")).first()
    db.session.add(Enrolment(user_id=learner.id, cohort_id=cohort.id, status="enrolled"))
    provider = db.session.scalars(select(Provider).order_by(Provider.id)).first()
    staff = make_user(name="Crawl Staff", staff_of=provider, admin=True)
    curator = make_user(name="Crawl Curator", curator=True)
    db.session.commit()
    assert db.session.scalar(select(LearningRecordEntry.id).limit(1))
    return {
        "learner": learner,
        "staff": staff,
        "curator": curator,
        "provider": provider,
        "shared": f"/shared/{token}",
    }


def test_every_page_every_role_fits_320_px_and_passes_axe(
    app, live_server, browser, people, axe_check, journey
):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    problems = []
    context = browser.new_context(viewport=WIDTHS[0])
    anonymous = context.new_page()
    starts = [
        "/",
        "/courses",
        "/courses?q=" + "Supercalifragilisticexpialidocious" * 3,
        "/login",
        "/register",
        people["shared"],
        "/no-such-page",
    ]
    problems += crawl(anonymous, live_server, starts, axe, journey)
    context.close()
    for role, starts in (
        ("learner", ["/my-learning", "/portfolio", "/portfolio/dashboard", "/account"]),
        ("staff", ["/provider", f"/provider/{people['provider'].slug}"]),
        ("curator", ["/curation", "/curation/audit"]),
    ):
        page = log_in_with_checks(browser, live_server, people[role], axe_check)
        problems += crawl(page, live_server, starts, axe, journey)
        page.context.close()
    assert problems == [], "\n".join(problems)
