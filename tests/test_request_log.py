"""One JSON line per request, with a request id and a role but no personal data; an exception is
logged with the same id while the visitor sees the friendly 500 page."""

from __future__ import annotations

import io
import json
import logging

import pytest

from academy.ops.requestlog import JsonHandler


@pytest.fixture
def log_lines(app):
    """The JSON lines the app writes to standard error, captured."""
    app.config["REQUEST_LOG"] = True
    handler = next(h for h in logging.getLogger("academy").handlers if isinstance(h, JsonHandler))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)


def test_each_request_is_one_json_line_without_the_query_string(client, log_lines):
    response = client.get("/courses?q=my+private+worry&sector=nursing")
    [line] = log_lines()
    assert line["request_id"] == response.headers["X-Request-Id"]
    assert len(line["request_id"]) == 32
    assert {k: line[k] for k in ("method", "path", "endpoint", "status", "role")} == {
        "method": "GET",
        "path": "/courses",
        "endpoint": "catalogue.course_list",
        "status": 200,
        "role": "anonymous",
    }
    assert isinstance(line["duration_ms"], float)
    assert "worry" not in json.dumps(line)


def test_a_sane_incoming_request_id_is_kept_and_an_odd_one_replaced(client, log_lines):
    kept = client.get("/", headers={"X-Request-Id": "lb-7f3a.2026:01"})
    assert kept.headers["X-Request-Id"] == "lb-7f3a.2026:01"
    for odd in ("<script>", "x" * 200, "has space", "ünïcode"):
        replaced = client.get("/", headers={"X-Request-Id": odd})
        assert replaced.headers["X-Request-Id"] != odd
    assert [line["request_id"] for line in log_lines()][0] == "lb-7f3a.2026:01"


def test_the_role_is_logged_never_the_person(app, client, log_lines, make_user, login):
    user = make_user(email="ada.lovelace@example.org", name="Ada Lovelace")
    login(client, user)
    client.get("/my-learning")
    curator = app.test_client()
    login(curator, make_user(curator=True))
    curator.get("/curation/queue")
    lines = log_lines()
    assert [line["role"] for line in lines] == ["learner", "curator"]
    text = json.dumps(lines)
    assert "ada" not in text.lower() and str(user.id) not in [line.get("user") for line in lines]


def test_logging_the_role_reads_nothing_from_the_database(
    app, client, log_lines, make_user, login, make_provider, count_queries
):
    from academy.accounts.models import ProviderMembership
    from academy.extensions import db

    staff = make_user()
    db.session.add(ProviderMembership(user=staff, provider=make_provider()))
    db.session.commit()
    login(client, staff)
    counts = {}
    for logged in (False, True):
        app.config["REQUEST_LOG"] = logged
        with count_queries() as counter:
            assert client.get("/my-learning").status_code == 200
        counts[logged] = counter.count
    assert counts[True] == counts[False]
    assert log_lines()[-1]["role"] == "provider"


def test_secrets_in_the_path_are_logged_as_placeholders(client, log_lines):
    client.get("/reset-password/abcdefSECRETtoken123")
    client.get("/register/confirm/anotherSECRETtoken")
    paths = [line["path"] for line in log_lines()]
    assert paths == ["/reset-password/<token>", "/register/confirm/<token>"]


def test_an_exception_is_logged_with_the_request_id_and_the_visitor_sees_the_500_page(
    app, client, log_lines
):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("the widget fell over")

    response = client.get("/test-only/boom")
    assert response.status_code == 500
    assert "Sorry, something went wrong" in response.get_data(as_text=True)
    assert "widget" not in response.get_data(as_text=True)
    *errors, request_line = log_lines()
    assert errors and {e["level"] for e in errors} == {"error"}
    assert all("RuntimeError: the widget fell over" in e["exception"] for e in errors)
    request_id = response.headers["X-Request-Id"]
    assert {e["request_id"] for e in errors} == {request_line["request_id"]} == {request_id}
    assert request_line["status"] == 500


def test_the_log_line_can_be_turned_off(app, client, log_lines):
    app.config["REQUEST_LOG"] = False
    response = client.get("/")
    assert response.headers["X-Request-Id"]
    assert log_lines() == []
