"""The security scan's own parts (``security/``): the self-test route never reaches the app,
the crawler finds forms and queries, and each tool's report is read into findings.

The scan itself runs in CI as ``make scan`` and ``make scan-selftest`` (docs/security.md); these
tests need none of the scanners installed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from academy import PROJECT_ROOT, create_app
from security import crawl, scan, tools
from security.site import build_app, selftest_enabled
from tests.conftest import TEST_PASSWORD


def selftest_rules(app) -> list[str]:
    return [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/_selftest") or rule.endpoint.startswith("scan_selftest.")
    ]


def test_the_app_never_registers_the_vulnerable_route(monkeypatch):
    monkeypatch.setenv("ACADEMY_SCAN_SELFTEST", "1")
    app = create_app({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    assert selftest_rules(app) == []
    assert "scan_selftest" not in app.blueprints


def test_no_module_of_the_app_imports_the_vulnerable_route():
    for path in (PROJECT_ROOT / "academy").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "selftest_app" not in text and "from security" not in text, path


def test_the_scan_mounts_the_vulnerable_route_only_when_asked(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.delenv("ACADEMY_SCAN_SELFTEST", raising=False)
    assert selftest_rules(build_app()) == []
    assert selftest_rules(build_app(selftest=True)) == ["/_selftest/vulnerable"]
    monkeypatch.setenv("ACADEMY_SCAN_SELFTEST", "1")
    assert selftest_rules(build_app()) == ["/_selftest/vulnerable"]


@pytest.mark.parametrize(
    ("value", "enabled"), [("1", True), ("true", True), ("0", False), ("", False), (None, False)]
)
def test_selftest_setting(value, enabled):
    environ = {} if value is None else {"ACADEMY_SCAN_SELFTEST": value}
    assert selftest_enabled(environ) is enabled


def test_every_excluded_action_is_a_real_post_route(app):
    """A renamed endpoint must not quietly drop out of the exclusions (and get attacked)."""
    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in r.methods}
    assert set(crawl.EXCLUDED_POSTS) <= posts
    patterns = scan.excluded_url_patterns("http://h", app)
    assert "http://h/logout" in patterns
    assert "http://h/my-learning/*/withdraw" in patterns


def test_page_parser_reads_links_and_every_kind_of_field():
    parser = crawl.PageParser()
    parser.feed(
        """
        <a href="/courses?q=x">x</a>
        <form method="post" action="/thing" enctype="multipart/form-data">
          <input type="hidden" name="csrf_token" value="tok">
          <input name="title" value="A &amp; B">
          <input type="checkbox" name="sectors" value="health">
          <input type="checkbox" name="sectors" value="housing">
          <input type="file" name="upload">
          <select name="step"><option value="awareness">A</option><option value="x">X</option>
          </select>
          <textarea name="notes">typed</textarea>
          <button type="submit" name="action" value="save">Save</button>
        </form>
        <form><input name="q"></form>
        """
    )
    assert parser.links == ["/courses?q=x"]
    post, get = parser.forms
    assert (post.method, post.action) == ("POST", "/thing")
    assert post.fields == {
        "csrf_token": "tok",
        "title": "A & B",
        "sectors": "health",
        "step": "awareness",
        "notes": "typed",
        "action": "save",
    }
    assert (get.method, get.fields) == ("GET", {"q": ""})


def test_each_parameter_is_attacked_once_by_the_first_role_that_has_it():
    first = crawl.Target("anonymous", "GET", "catalogue.course_list", "http://h/courses?q=a")
    again = crawl.Target("learner", "GET", "catalogue.course_list", "http://h/courses?q=b&free=1")
    form = crawl.Target("learner", "POST", "accounts.account", "http://h/account", "name=x")
    same = crawl.Target("curator", "POST", "accounts.account", "http://h/account", "name=y")
    kept = crawl.assign([first, again, form, same])
    assert [(t.role, t.test) for t in kept] == [
        ("anonymous", ("q",)),
        ("learner", ("free",)),
        ("learner", ("name",)),
    ]


@pytest.fixture
def served(app, make_course, make_user):
    """The test app on a loopback port, with one published course and one learner."""
    make_course(title="Boundaries in practice")
    learner = make_user("scan-test@example.org")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", learner
    server.shutdown()
    thread.join()


def test_crawler_finds_queries_and_forms_as_a_role_and_keeps_their_csrf_tokens(app, served):
    base, learner = served
    http = crawl.log_in(base, learner.email, TEST_PASSWORD)
    targets = crawl.Crawler(base, app.url_map, http, "learner").crawl()
    found = {(t.method, t.endpoint) for t in targets}
    assert ("GET", "catalogue.course_list") in found  # the search form and the filter links
    assert ("POST", "accounts.account") in found  # the profile form, only when logged in
    assert not {("POST", endpoint) for endpoint in crawl.EXCLUDED_POSTS} & found
    profile = next(t for t in targets if t.endpoint == "accounts.account")
    assert profile.csrf and "name" in profile.params
    cookie = scan.cookie_header(http)
    assert scan.csrf_refused(profile, cookie) == ""
    forged = crawl.Target(**{**vars(profile), "data": "csrf_token=forged&name=x"})
    assert "refused" in scan.csrf_refused(forged, cookie)
    crawl.check_logged_in(base, http, learner.email)  # the crawl did not log the role out


def test_crawler_stays_on_its_host_and_out_of_static_files(app, served):
    base, _ = served
    crawler = crawl.Crawler(base, app.url_map, requests.Session(), "anonymous")
    assert crawler.endpoint(base + "/courses?q=x") == "catalogue.course_list"
    assert crawler.endpoint("https://example.org/courses") is None
    assert crawler.endpoint(base + "/no/such/page") is None
    crawler.crawl()
    assert crawler.errors == []
    assert all(t.endpoint != "static" for t in crawler.targets.values())


SQLMAP_FOUND = """
[10:00:01] [INFO] heuristic (XSS) test shows that GET parameter 'name' might be vulnerable to cross-site scripting (XSS) attacks
[10:00:02] [INFO] GET parameter 'name' appears to be 'AND boolean-based blind - WHERE or HAVING clause' injectable
[10:00:03] [INFO] GET parameter 'name' is 'SQLite >= 3.9 AND error-based - WHERE, HAVING, ORDER BY or GROUP BY clause (JSON path)' injectable
GET parameter 'name' is vulnerable. Do you want to keep testing the others (if any)? [y/N] N
sqlmap identified the following injection point(s) with a total of 40 HTTP(s) requests:
"""  # noqa: E501

SQLMAP_CLEAN = """
[10:00:01] [WARNING] heuristic (basic) test shows that POST parameter 'access_needs' might not be SQL injectable
[10:00:02] [INFO] POST parameter 'access_needs' appears to be 'AND boolean-based blind - WHERE or HAVING clause (comment)' injectable
[10:00:03] [INFO] checking if the injection point on POST parameter 'access_needs' is a false positive
[10:00:04] [WARNING] false positive or unexploitable injection point detected
[10:00:04] [WARNING] POST parameter 'access_needs' does not seem to be injectable
[10:00:04] [CRITICAL] all tested parameters do not appear to be injectable.
"""  # noqa: E501


def test_sqlmap_output_is_read_into_findings():
    target = crawl.Target("anonymous", "GET", "x.y", "http://h/_selftest/vulnerable?name=a")
    found = tools.read_sqlmap(SQLMAP_FOUND, target)
    assert [f.what[:48] for f in found] == [
        "GET parameter 'name' is vulnerable",
        "GET parameter 'name' is 'SQLite >= 3.9 AND error",
        "heuristic (XSS) test shows that GET parameter 'n",
    ]
    assert all(f.where == "GET /_selftest/vulnerable [name] as anonymous" for f in found)


def test_a_false_positive_sqlmap_dismissed_itself_is_no_finding():
    target = crawl.Target("learner", "POST", "x.y", "http://h/enrol", "access_needs=")
    assert tools.read_sqlmap(SQLMAP_CLEAN, target) == []


def test_sqlmap_command_tests_only_the_targets_parameters_with_its_role_cookie(tmp_path):
    target = crawl.Target(
        "learner", "POST", "x.y", "http://h/a", "csrf_token=t&name=x", "http://h/p", True, ("name",)
    )
    command = tools.sqlmap_command(Path("sqlmap"), target, "session=abc", tmp_path)
    assert "--level=3" in command and "--batch" in command
    assert command[command.index("-p") + 1] == "name"
    assert "--cookie=session=abc" in command and "--data=csrf_token=t&name=x" in command
    assert not any(part.startswith("--csrf-url") for part in command)
    fresh = tools.sqlmap_command(Path("sqlmap"), target, "", tmp_path, fresh_csrf=True)
    assert "--csrf-url=http://h/p" in fresh


def test_wapiti_vulnerabilities_and_anomalies_are_findings():
    report = {
        "vulnerabilities": {
            "SQL Injection": [
                {"method": "GET", "path": "/_selftest/vulnerable", "info": "SQL Injection via name"}
            ],
            "Cross Site Request Forgery": [],
        },
        "anomalies": {"Internal Server Error": [{"method": "POST", "path": "/x", "info": "500"}]},
        "additionals": {"Fingerprint web technology": [{"path": "/", "info": "Flask"}]},
    }
    found = tools.read_wapiti(report)
    assert [str(f) for f in found] == [
        "[wapiti] GET /_selftest/vulnerable: SQL Injection: SQL Injection via name",
        "[wapiti] POST /x: Internal Server Error: 500",
    ]
    assert tools.read_wapiti({"vulnerabilities": {}, "anomalies": {}}) == []


def test_bandit_results_and_unreadable_files_are_findings():
    report = {
        "results": [
            {
                "filename": "./security/selftest_app.py",
                "line_number": 34,
                "test_id": "B608",
                "issue_text": "Possible SQL injection",
                "issue_severity": "MEDIUM",
                "issue_confidence": "LOW",
            }
        ],
        "errors": [{"filename": "academy/broken.py", "reason": "syntax error"}],
    }
    found = tools.read_bandit(report)
    assert [f.where for f in found] == ["security/selftest_app.py:34", "academy/broken.py"]
    assert found[0].what.startswith("B608 ")
    assert tools.read_bandit({"results": [], "errors": []}) == []


def test_selftest_verdict_needs_every_tool_to_name_the_route():
    route = scan.SELFTEST_PATH
    everything = [
        tools.Finding("sqlmap", f"GET {route} [name] as anonymous", "is vulnerable"),
        tools.Finding("sqlmap", f"POST {route} [term] as anonymous", "is vulnerable"),
        tools.Finding("wapiti", f"GET {route} as anonymous", "Reflected Cross Site Scripting: x"),
        tools.Finding("bandit", "security/selftest_app.py:34", "B608"),
        tools.Finding("server", f"GET {route}?name=a&order=x", "500: OperationalError: ..."),
    ]
    wanted = {"sqlmap", "wapiti", "bandit"}
    assert scan.selftest_verdict(everything, wanted) == 0
    assert scan.selftest_verdict(everything[1:], wanted) == 1  # the GET query was missed
    assert scan.selftest_verdict(everything[:-1], wanted) == 1  # no 500 in the server's log
    assert scan.selftest_verdict([], wanted) == 1
