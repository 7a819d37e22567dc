"""A live server with the seeded catalogue, and headless Chromium (Debian's, never downloaded)."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from academy.extensions import db
from academy.search import get_store, indexer
from academy.seeding import seed_catalogue

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def live_server(app):
    """Serve the seeded app on a free loopback port for the duration of one test."""
    with app.app_context():
        seed_catalogue(Path(app.config["SEED_DIR"]))
        db.session.commit()
        indexer.rebuild(get_store(), db.engine)
    app.extensions["academy.search"].mode = "inline"
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class Journey:
    """What a browser test visited and what axe-core checked.

    Every page a test's browser contexts navigate to is recorded; ``axe_check`` records the
    pages it checked. At the end of the test every visited page must have been checked, so a
    journey cannot skip accessibility on a page by forgetting to ask.
    """

    def __init__(self) -> None:
        self.visited: list[str] = []
        self.checked: set[str] = set()

    @staticmethod
    def key(url: str) -> str:
        return url.split("#", 1)[0]

    def record(self, frame) -> None:
        if frame.parent_frame is None and frame.url.startswith("http"):
            self.visited.append(self.key(frame.url))

    def unchecked(self) -> list[str]:
        return sorted({url for url in self.visited if url not in self.checked})


class RecordingBrowser:
    """The real browser, except that every new context records its pages' navigations."""

    def __init__(self, browser, journey: Journey) -> None:
        self._browser = browser
        self._journey = journey

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.on("page", lambda page: page.on("framenavigated", self._journey.record))
        return context

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture
def journey():
    return Journey()


@pytest.fixture
def browser(journey):
    if not Path(CHROMIUM).exists():
        if os.environ.get("ACADEMY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required but not found at {CHROMIUM}")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield RecordingBrowser(browser, journey)
        browser.close()
    unchecked = journey.unchecked()
    assert unchecked == [], f"pages visited but never checked with axe_check: {unchecked}"


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def axe_check(journey):
    """``axe_check(page)`` checks the page as it stands at desktop width and at phone width.

    At each width it fails on any serious or critical axe-core violation; at phone width it
    also fails if the page scrolls sideways. The page is left at the width it had.
    """
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()

    def violations(page) -> list[str]:
        # a click may still be loading the next page: wait for it, and run axe again if the
        # page went away under it
        from playwright.sync_api import Error

        for attempt in range(3):
            page.wait_for_load_state("load")
            try:
                results = axe.run(page)
                break
            except Error:
                if attempt == 2:
                    raise
        return [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:3])
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]

    def check(page) -> None:
        original = page.viewport_size
        problems = []
        try:
            for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
                page.set_viewport_size(size)
                problems += [f"[{name}] {problem}" for problem in violations(page)]
                if name == "phone" and page.evaluate(
                    "document.documentElement.scrollWidth > document.documentElement.clientWidth"
                ):
                    problems.append("[phone] the page scrolls sideways")
        finally:
            page.set_viewport_size(original)
        journey.checked.add(Journey.key(page.url))
        assert problems == [], f"{page.url}: " + " | ".join(problems)

    return check
