"""Rate limits: counted in the database so they hold across workers and servers; 429 with a
clear page (or JSON under /api) and Retry-After; configurable; /healthz never limited."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from academy import create_app
from academy.config import ConfigError
from academy.extensions import db
from academy.ops import ratelimit
from academy.ops.models import RateLimitCounter

NOW = 1_800_000_010.0  # ten seconds into a minute and into an hour


@pytest.fixture
def limited(app, monkeypatch):
    monkeypatch.setattr(ratelimit, "clock", lambda: NOW)
    app.config.update(RATE_LIMITS_ENABLED=True, WTF_CSRF_ENABLED=False)
    return app


def post_login(client, address="192.0.2.1"):
    return client.post(
        "/login",
        data={"email": "nobody@example.org", "password": "wrong"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_login_posts_over_the_limit_get_a_clear_429_with_retry_after(limited, client):
    limited.config["RATE_LIMIT_LOGIN"] = "3/minute"
    codes = [post_login(client).status_code for _ in range(3)]
    assert codes == [422, 422, 422]
    refused = post_login(client)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "50"  # the minute's window ends 50 s from now
    page = refused.get_data(as_text=True)
    assert "Too many requests" in page and "try again in" in page
    # looking at the form is not counted, and another address has its own allowance
    assert client.get("/login").status_code == 200
    assert post_login(client, address="192.0.2.99").status_code == 422


@pytest.mark.parametrize(
    "setting, path, data",
    [
        ("RATE_LIMIT_REGISTER", "/register", {"name": "A", "email": "a@example.org"}),
        ("RATE_LIMIT_PASSWORD_RESET", "/forgot-password", {"email": "a@example.org"}),
        ("RATE_LIMIT_PASSWORD_RESET", "/reset-password/not-a-token", {"password": "x"}),
    ],
)
def test_registration_and_password_reset_are_limited(limited, client, setting, path, data):
    limited.config[setting] = "2/hour"
    codes = [client.post(path, data=data).status_code for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429


def test_the_search_api_answers_429_as_json(limited, client):
    limited.config["RATE_LIMIT_SEARCH_API"] = "2/minute"
    assert [client.get("/api/v1/courses").status_code for _ in range(2)] == [200, 200]
    refused = client.get("/api/v1/courses/12345")  # the prefix covers every search API route
    assert refused.status_code == 429
    assert refused.get_json()["status"] == 429
    assert int(refused.headers["Retry-After"]) >= 1


def test_exports_are_limited_per_account_by_path_prefix(limited, make_user, login):
    """Routes added later under the prefixes are covered: here a stand-in export route."""
    limited.config["RATE_LIMIT_EXPORTS"] = "2/hour"

    @limited.get("/portfolio/export.test-only")
    def export():
        return "data"

    first, second = limited.test_client(), limited.test_client()
    login(first, make_user())
    login(second, make_user())
    assert [first.get("/portfolio/export.test-only").status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    # same address, another account: its own allowance
    assert second.get("/portfolio/export.test-only").status_code == 200
    assert first.get("/account/data.zip").status_code == 429  # one allowance for all exports


def test_credential_verification_is_limited(limited, client):
    limited.config["RATE_LIMIT_CREDENTIAL_VERIFY"] = "1/minute"
    assert client.get("/credentials/verify").status_code != 429
    assert client.get("/credentials/verify/anything").status_code == 429


def test_health_checks_and_other_pages_are_never_limited(limited, client):
    for rule in ratelimit.RULES:
        limited.config[rule.setting] = "1/minute"
    assert Counter(client.get("/healthz").status_code for _ in range(5)) == {503: 5}
    assert {client.get("/courses").status_code for _ in range(5)} == {200}


def test_a_rule_can_be_turned_off_and_a_bad_limit_stops_the_start(limited, client, tmp_path):
    limited.config["RATE_LIMIT_SEARCH_API"] = "off"
    assert {client.get("/api/v1/courses").status_code for _ in range(3)} == {200}
    with pytest.raises(ConfigError, match="not understood"):
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "RATE_LIMIT_LOGIN": "lots"})


@pytest.mark.parametrize(
    "text, count, seconds",
    [
        ("10/minute", 10, 60),
        ("100 per hour", 100, 3600),
        ("5/30 seconds", 5, 30),
        ("1/day", 1, 86400),
    ],
)
def test_limits_are_read_from_plain_text(text, count, seconds):
    assert ratelimit.parse_limit(text) == ratelimit.Limit(count, seconds)


def test_two_app_processes_share_one_count(limited, tmp_path):
    """Two apps on one database stand for two workers (or servers): the count is shared."""
    other = create_app(
        {
            "DATABASE_URL": limited.config["DATABASE_URL"],
            "SECRET_KEY": limited.config["SECRET_KEY"],
            "SEARCH_INDEX_DIR": str(tmp_path / "other-index"),
            "SEARCH_SYNC": "off",
            "REQUEST_LOG": False,
            "RATE_LIMIT_SEARCH_API": "3/minute",
            "TESTING": True,
        }
    )
    limited.config["RATE_LIMIT_SEARCH_API"] = "3/minute"
    a, b = limited.test_client(), other.test_client()
    codes = [client.get("/api/v1/courses").status_code for client in (a, b, a, b)]
    with other.app_context():
        db.engine.dispose()
    assert codes == [200, 200, 200, 429]


def test_simultaneous_hits_never_exceed_the_limit(limited):
    """Twenty threads, each with its own connection, count at once: exactly ten get through."""
    limit = ratelimit.Limit(10, 3600)
    rule = ratelimit.RULES[0]
    barrier = threading.Barrier(20)
    results: list[int] = []

    def one():
        with limited.app_context():
            barrier.wait(timeout=30)
            results.append(ratelimit.hit(rule, limit, "address:198.51.100.1", now=1000.0)[0])
            db.session.remove()

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(1, 21))  # no count lost, none repeated
    assert sum(1 for hits in results if hits <= limit.count) == 10


def test_counters_hold_no_address_and_expired_ones_are_pruned(limited, client, ctx):
    limited.config["RATE_LIMIT_LOGIN"] = "5/minute"
    post_login(client, address="203.0.113.77")
    keys = db.session.scalars(select(RateLimitCounter.key)).all()
    assert len(keys) == 1 and "203.0.113" not in keys[0] and keys[0].startswith("login:")
    rule, limit = ratelimit.RULES[0], ratelimit.Limit(5, 60)
    ratelimit.hit(rule, limit, "address:x", now=60.0)  # a window that ended long ago
    assert ratelimit.prune() == 1
    assert db.session.scalars(select(RateLimitCounter.key)).all() == keys
