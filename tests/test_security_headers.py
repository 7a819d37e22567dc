"""Security headers on every response, and no page that a strict CSP would break.

The inline-code check walks the access matrix: every GET route, as every role that may see it,
so a page added later is checked as soon as it has its line in ``ROUTES``.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from academy.ops.headers import CONTENT_SECURITY_POLICY
from tests.test_access_matrix import ROLES, ROUTES, world  # noqa: F401  (world is a fixture)


class InlineCodeFinder(HTMLParser):
    """Collects everything a ``script-src 'self'; style-src 'self'`` policy would block."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "style":
            self.problems.append("<style> block")
        if tag == "script":
            if not attributes.get("src"):
                self.problems.append("<script> without src")
            self._in_script = bool(attributes.get("src"))
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style= on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in {name} on <{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline code inside <script src>")


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.problems


def test_the_finder_sees_each_kind_of_inline_code():
    page = (
        '<p style="color:red" onclick="go()">x</p><style>p{}</style><script>alert(1)</script>'
        '<a href="javascript:void(0)">y</a><script src="/static/a.js"></script>'
    )
    assert len(inline_code(page)) == 5
    assert inline_code('<link rel="stylesheet" href="/s.css"><script src="/a.js"></script>') == []


def test_every_page_every_role_sees_is_free_of_inline_script_and_style(app, world, login):  # noqa: F811
    app.config["REQUEST_LOG"] = True  # also exercises the log line on every route
    problems, pages = [], 0
    for index, role in enumerate(ROLES):
        client = app.test_client()
        if role != "anonymous":
            login(client, world["people"][role])
        for (endpoint, method), (path, codes) in ROUTES.items():
            if method != "GET" or codes[index] != 200:
                continue
            response = client.get(path.format(**world["values"]))
            response.close()  # file downloads hold their file open until closed
            policy = response.headers["Content-Security-Policy"]
            if response.mimetype == "text/html":
                assert policy == CONTENT_SECURITY_POLICY, endpoint
            else:  # files (evidence) may carry a stricter, sandboxing policy of their own
                assert policy in (CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox"), endpoint
            if response.mimetype == "text/html":
                pages += 1
                problems += [f"{role} {endpoint}: {p}" for p in inline_code(response.text)]
    assert pages > 40
    assert problems == []


def test_error_pages_are_free_of_inline_code(app, client):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("boom")

    for path, status in (("/no-such-page", 404), ("/test-only/boom", 500)):
        response = client.get(path)
        assert response.status_code == status
        assert inline_code(response.text) == []


@pytest.mark.parametrize("path", ["/", "/static/css/site.css", "/api/v1/openapi.json", "/nope"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()
    headers = response.headers
    assert headers["Content-Security-Policy"] == (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP


def test_hsts_only_over_https(client):
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_a_stricter_policy_set_by_a_view_is_kept_and_a_weaker_one_raised(app, client):
    @app.get("/test-only/strict")
    def strict():
        return "x", 200, {"Referrer-Policy": "no-referrer", "Content-Security-Policy": "sandbox"}

    @app.get("/test-only/loose")
    def loose():
        return "x", 200, {"Referrer-Policy": "unsafe-url"}

    kept = client.get("/test-only/strict").headers
    assert kept["Referrer-Policy"] == "no-referrer"
    assert kept["Content-Security-Policy"] == "sandbox"
    assert client.get("/test-only/loose").headers["Referrer-Policy"] == (
        "strict-origin-when-cross-origin"
    )
