"""The production profile: a real secret key or no start, secure cookies, proxies trusted only
as deep as configured, and a secret key that can be rotated without logging everyone out."""

from __future__ import annotations

import pytest

from academy import create_app
from academy.config import ConfigError

STRONG_KEY = "a" * 20 + "0123456789abcdef0123"


@pytest.fixture
def production_env(monkeypatch, tmp_path):
    for name in ("SECRET_KEY", "ACADEMY_SECRET_KEY", "ACADEMY_PROXY_COUNT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACADEMY_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("SEARCH_INDEX_DIR", str(tmp_path / "index"))
    return monkeypatch


def test_production_refuses_to_start_without_a_secret_key(production_env, tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY in the environment"):
        create_app()
    assert not (tmp_path / "instance").exists()


@pytest.mark.parametrize("key", ["change-me", "short-but-real-3f9a", "test-secret-key"])
def test_production_refuses_a_weak_or_placeholder_key(production_env, key):
    production_env.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError, match="too weak"):
        create_app()


def test_production_never_falls_back_to_the_instance_key_file(production_env, tmp_path):
    app_dir = tmp_path / "instance"
    app_dir.mkdir()
    (app_dir / "secret_key").write_text(STRONG_KEY)
    with pytest.raises(ConfigError):
        create_app({"DATABASE_URL": "sqlite://"})


def test_production_sets_secure_cookies_https_and_no_sync_thread(production_env):
    production_env.setenv("SECRET_KEY", STRONG_KEY)
    config = create_app().config
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["PREFERRED_URL_SCHEME"] == "https"
    assert config["SEARCH_SYNC"] == "off"


def test_an_explicit_setting_from_the_environment_wins_over_the_profile(production_env):
    production_env.setenv("SECRET_KEY", STRONG_KEY)
    production_env.setenv("ACADEMY_SESSION_COOKIE_SECURE", "false")
    assert create_app().config["SESSION_COOKIE_SECURE"] is False


def test_development_keeps_plain_cookies(monkeypatch, tmp_path):
    monkeypatch.delenv("ACADEMY_ENV", raising=False)
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x"})
    assert not app.config.get("SESSION_COOKIE_SECURE")


def test_the_session_cookie_is_secure_and_http_only_in_production(app, production_env):
    production_env.setenv("SECRET_KEY", STRONG_KEY)
    production_env.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    prod = create_app({"TESTING": True, "SEARCH_SYNC": "off", "REQUEST_LOG": False})
    response = prod.test_client().get("/login")  # the form's CSRF token starts a session
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def _echo_app(config):
    app = create_app(
        {"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "SEARCH_SYNC": "off", **config}
    )

    @app.get("/test-only/echo")
    def echo():
        from flask import request, url_for

        return {"address": request.remote_addr, "url": url_for("main.home", _external=True)}

    return app.test_client()


FORWARDED = {
    "X-Forwarded-For": "203.0.113.9, 198.51.100.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "academy.example.org",
}


def test_forwarded_headers_are_ignored_without_a_proxy_count():
    seen = _echo_app({}).get("/test-only/echo", headers=FORWARDED).get_json()
    assert seen == {"address": "127.0.0.1", "url": "http://localhost/"}


def test_proxy_count_trusts_exactly_that_many_proxies():
    one = _echo_app({"PROXY_COUNT": "1"}).get("/test-only/echo", headers=FORWARDED)
    # one proxy: the last address it added is the client; a forged earlier one is ignored
    assert one.get_json() == {"address": "198.51.100.7", "url": "https://academy.example.org/"}
    two = _echo_app({"PROXY_COUNT": "2"}).get("/test-only/echo", headers=FORWARDED)
    assert two.get_json()["address"] == "203.0.113.9"


def test_a_bad_proxy_count_stops_the_start():
    with pytest.raises(ConfigError, match="PROXY_COUNT"):
        _echo_app({"PROXY_COUNT": "two"})


def test_an_old_secret_key_in_the_fallbacks_keeps_sessions_valid(app):
    from datetime import timedelta

    from academy.accounts import services, tokens
    from academy.extensions import db

    with app.app_context():
        user = services.create_user("Someone", "someone@example.org", "a long unusual passphrase")
        # emailed links are random tokens stored as a hash, not signed: a new key keeps them
        link_token = tokens.issue(user, "reset", timedelta(hours=1))
        db.session.commit()
        user_id = user.id
    client = app.test_client()
    with client.session_transaction() as session:
        session["marker"] = "kept"
    rotated = create_app(
        {
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": "a-brand-new-key",
            "SECRET_KEY_FALLBACKS": app.config["SECRET_KEY"],
            "TESTING": True,
        }
    )
    later = rotated.test_client()
    later.set_cookie("session", client.get_cookie("session").value)
    with later.session_transaction() as session:
        assert session.get("marker") == "kept"
    with rotated.app_context():
        assert services.check_reset_token(link_token).user_id == user_id
        db.session.remove()
        db.engine.dispose()  # the second app's own connections, closed before the next test
