"""Configuration: defaults, then ``instance/config.py``, then the environment, then a test mapping.

Environment variables: ``DATABASE_URL``, ``SECRET_KEY`` and ``SEARCH_INDEX_DIR`` by their plain
names, and any other setting as ``ACADEMY_<NAME>`` (for example ``ACADEMY_COURSES_PER_PAGE=30``).

``ACADEMY_ENV=production`` selects the production profile (``apply_profile``): it refuses to start
without a real ``SECRET_KEY`` from the environment and turns on secure cookies and https URLs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PLAIN_ENV_NAMES = ("DATABASE_URL", "SECRET_KEY", "SEARCH_INDEX_DIR")


def defaults(instance_path: str) -> dict[str, Any]:
    """Return the settings every deployment starts from; nothing here touches the disk."""
    return {
        "DATABASE_URL": "sqlite:///" + os.path.join(instance_path, "academy.sqlite3"),
        "SEARCH_INDEX_DIR": os.path.join(instance_path, "search-index"),
        # portfolio evidence files, outside the web root, under random names
        "EVIDENCE_DIR": os.path.join(instance_path, "evidence"),
        "EVIDENCE_MAX_BYTES": 10 * 1024 * 1024,
        # the keys that sign Open Badges and CLR credentials
        "CREDENTIALS_KEY_DIR": os.path.join(instance_path, "credentials"),
        "SECRET_KEY": None,  # nosec B105  # no key: create_app makes one in instance/
        "SEED_DIR": str(Path(__file__).resolve().parent.parent / "seed"),
        "COURSES_PER_PAGE": 20,
        "DISPLAY_TIMEZONE": "Europe/London",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # "development" (the default) or "production" (see ``apply_profile``)
        "ENV": "development",
        # how many reverse proxies stand in front of the app (X-Forwarded-* is trusted that deep)
        "PROXY_COUNT": 0,
        # accounts: log-in throttling, link lifetimes, sessions
        "LOGIN_WINDOW_MINUTES": 15,
        "LOGIN_FAILURES_PER_ACCOUNT": 5,
        # per client address, higher than per account: many staff of one trust share an address
        "LOGIN_FAILURES_PER_ADDRESS": 20,
        "RESET_LINK_MINUTES": 60,
        "CONFIRM_LINK_DAYS": 3,
        "SESSION_MAX_AGE_DAYS": 14,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # enrolment: calendar files and reminders
        "CALENDAR_UID_DOMAIN": "relational-learning-academy",
        "REMINDER_DAYS": 2,
        # mail: no MAIL_SERVER writes messages to MAIL_FILE_DIR instead
        "MAIL_SERVER": None,
        "MAIL_PORT": 25,
        "MAIL_TIMEOUT": 10,
        "MAIL_DEFAULT_SENDER": "Relational Learning Academy <academy@localhost>",
        "MAIL_FILE_DIR": os.path.join(instance_path, "mail"),
        "MAIL_MAX_ATTEMPTS": 10,
        # where links in mail sent outside a request (reminders from a command) point
        "BASE_URL": "http://127.0.0.1:5000",
        # send queued mail after each response; None means "unless testing" (tests send explicitly)
        "MAIL_SEND_AFTER_REQUEST": None,
        # search: how the index follows the database (inline, background or off)
        "SEARCH_SYNC": "background",
        "SEARCH_POLL_SECONDS": 1.0,
        "SEARCH_CACHE_SIZE": 512,
        "SEARCH_CACHE_SECONDS": 30.0,
        # course pages: listings kept per catalogue stamp, per process (0 turns it off)
        "COURSE_PAGE_CACHE_SIZE": 2048,
        # a visitor's course and results pages as HTML, per state, per process (0: off)
        "PAGE_CACHE_SIZE": 512,
        # ops: health thresholds, request log, HSTS, rate limits
        "HEALTH_MAX_INDEX_LAG": 1000,
        "HEALTH_MAX_INDEX_LAG_SECONDS": 120,
        "REQUEST_LOG": True,
        "HSTS_MAX_AGE": 63072000,  # two years, as hstspreload.org asks
        "RATE_LIMITS_ENABLED": True,
    }


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Pick the settings this app reads from an environment mapping (values stay strings)."""
    found: dict[str, Any] = {name: environ[name] for name in PLAIN_ENV_NAMES if environ.get(name)}
    for key, value in environ.items():
        if key.startswith("ACADEMY_") and len(key) > len("ACADEMY_"):
            found[key.removeprefix("ACADEMY_")] = value
    return found


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the driver SQLAlchemy should use (psycopg 3 for PostgreSQL).

    Hosting platforms hand out ``postgres://`` and ``postgresql://`` URLs; both mean psycopg 3 here.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def load_or_create_secret_key(instance_path: str) -> str:
    """Return the key kept in ``instance/secret_key``, creating it (mode 0600) on first use.

    This is the one file the factory may write, and only when no ``SECRET_KEY`` was configured:
    it keeps sessions valid across restarts without a secret ever living in the repository.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to set."""


#: settings read as booleans when they arrive from the environment as text
BOOLEAN_SETTINGS = (
    "SESSION_COOKIE_SECURE",
    "REMEMBER_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "REMEMBER_COOKIE_HTTPONLY",
    "RATE_LIMITS_ENABLED",
    "REQUEST_LOG",
)

#: values people paste from examples; never accepted as a production key
PLACEHOLDER_KEYS = {"change-me", "changeme", "secret", "dev", "development", "test-secret-key"}
MIN_SECRET_KEY_LENGTH = 32

PRODUCTION_SETTINGS = {
    "SESSION_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PREFERRED_URL_SCHEME": "https",
    # one ``flask search sync --follow`` per server applies the outbox; web workers only read
    "SEARCH_SYNC": "off",
}


def as_bool(value: Any) -> bool:
    """Read a setting that may be text from the environment ("0", "false", "no", "off")."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def as_list(value: Any) -> list[str]:
    """Read a list setting that may be comma-separated text from the environment."""
    if value is None:
        return []
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return list(value)


def is_production(config: Mapping[str, Any]) -> bool:
    return str(config.get("ENV", "development")).strip().lower() == "production"


def apply_profile(config: dict[str, Any], explicit: Mapping[str, Any]) -> None:
    """Finish ``config`` for its ``ENV``; ``explicit`` holds what the environment or caller set.

    In production every ``PRODUCTION_SETTINGS`` value applies unless set explicitly, and the
    ``SECRET_KEY`` must be explicit, at least 32 characters and not a placeholder.

    :raise ConfigError: when production has no usable ``SECRET_KEY``.
    """
    if is_production(config):
        for key, value in PRODUCTION_SETTINGS.items():
            if key not in explicit:
                config[key] = value
        key = explicit.get("SECRET_KEY")
        if not key:
            raise ConfigError(
                "ACADEMY_ENV=production needs SECRET_KEY in the environment: generate one with "
                "`python3 -c 'import secrets; print(secrets.token_hex(32))'` and keep it in the "
                "service's environment file (the same value on every server)."
            )
        if len(str(key)) < MIN_SECRET_KEY_LENGTH or str(key).strip().lower() in PLACEHOLDER_KEYS:
            raise ConfigError(
                f"SECRET_KEY is too weak for production: use at least {MIN_SECRET_KEY_LENGTH} "
                "random characters (`python3 -c 'import secrets; print(secrets.token_hex(32))'`)."
            )
    for name in BOOLEAN_SETTINGS:
        if name in config:
            config[name] = as_bool(config[name])
    config["SECRET_KEY_FALLBACKS"] = as_list(config.get("SECRET_KEY_FALLBACKS"))
    try:
        config["PROXY_COUNT"] = int(config.get("PROXY_COUNT") or 0)
    except ValueError:
        raise ConfigError("ACADEMY_PROXY_COUNT must be a whole number (0 with no proxy).") from None
    if config["PROXY_COUNT"] < 0:
        raise ConfigError("ACADEMY_PROXY_COUNT must be 0 or more.")
