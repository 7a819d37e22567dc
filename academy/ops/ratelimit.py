"""Rate limits that hold across workers and servers: fixed-window counters in the database.

Each limited request runs one statement in its own short transaction::

    INSERT INTO rate_limit_counters (key, hits, expires_at) VALUES (:key, 1, :window_end)
    ON CONFLICT (key) DO UPDATE SET hits = rate_limit_counters.hits + 1 RETURNING hits

PostgreSQL and SQLite (3.35+) both run it atomically, so two workers (or two servers) counting the
same client at once can never both see the last free slot. A fixed window lets a client send up to
twice the limit across a window boundary; for these limits (against guessing and scraping, not for
billing) that is accepted in exchange for one row and one statement per request.

Rules match by endpoint name or path prefix, so routes added later under a limited prefix (the
portfolio exports, for example) are covered without touching this file. Each rule's limit is a
setting: ``RATE_LIMIT_<NAME>`` (``ACADEMY_RATE_LIMIT_SEARCH_API=600/minute``), or ``off``.
``RATE_LIMITS_ENABLED=0`` turns them all off (the test suite does, except in its own tests).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import math
import random
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app, g, jsonify, render_template, request
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import TooManyRequests

from academy.config import ConfigError, as_bool
from academy.extensions import db
from academy.ops.models import RateLimitCounter

log = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
LIMIT_PATTERN = re.compile(
    r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE
)
PRUNE_CHANCE = 0.01  # share of counted requests that also delete expired counters
clock = time.time  # tests pin it, so a window boundary never falls inside a test


@dataclass(frozen=True)
class Rule:
    """Which requests a limit counts, and whom it counts them for.

    ``per`` is ``address`` (the client address, after ``ProxyFix``) or ``user`` (the account when
    logged in, else the address).
    """

    name: str
    default: str
    endpoints: tuple[str, ...] = ()
    path_prefixes: tuple[str, ...] = ()
    methods: tuple[str, ...] | None = None  # None: every method
    per: str = "address"

    @property
    def setting(self) -> str:
        return "RATE_LIMIT_" + self.name.upper().replace("-", "_")

    def matches(self, endpoint: str | None, path: str, method: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return (endpoint in self.endpoints) or any(path.startswith(p) for p in self.path_prefixes)


RULES: tuple[Rule, ...] = (
    # Guessing passwords: LOGIN_FAILURES_PER_* still lock an account; this caps the attempts.
    Rule("login", "30/minute", endpoints=("accounts.login",), methods=("POST",)),
    # Registration and reset send mail: cap them so the site cannot be used to flood an inbox.
    Rule("register", "20/hour", endpoints=("accounts.register",), methods=("POST",)),
    Rule(
        "password-reset",
        "20/hour",
        endpoints=("accounts.forgot_password", "accounts.reset_password"),
        methods=("POST",),
    ),
    # The public search API: generous for people and integrations, a ceiling for scrapers.
    Rule("search-api", "120/minute", path_prefixes=("/api/v1/courses",)),
    # Exports build whole archives: costly, and only ever needed now and then.
    Rule(
        "exports",
        "20/hour",
        path_prefixes=("/portfolio/export", "/account/data.zip"),
        per="user",
    ),
    Rule("credential-verify", "60/minute", path_prefixes=("/credentials/verify",)),
)


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int


@functools.lru_cache(maxsize=64)
def parse_limit(text: str) -> Limit | None:
    """``"10/minute"``, ``"100 per hour"``, ``"5/30 seconds"`` → a ``Limit``; ``"off"`` → None.

    :raise ConfigError: for anything else.
    """
    if str(text).strip().lower() in ("off", "none", "0"):
        return None
    found = LIMIT_PATTERN.match(str(text))
    if not found or int(found.group(1)) < 1:
        raise ConfigError(
            f"Rate limit {text!r} is not understood: write it as '10/minute', '100/hour', "
            "'5/30 seconds' or 'off'."
        )
    count, multiple, unit = int(found.group(1)), int(found.group(2) or 1), found.group(3).lower()
    return Limit(count, multiple * PERIODS[unit])


def configured_limits(app: Flask) -> dict[str, Limit | None]:
    """Each rule's limit as configured (checked when the app is created)."""
    return {
        rule.name: parse_limit(str(app.config.get(rule.setting, rule.default))) for rule in RULES
    }


def _client_digest(identity: str) -> str:
    """A keyed hash of the client, so the table holds no address and no account number."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, identity.encode(), hashlib.sha256).hexdigest()[:32]


def _identity(rule: Rule) -> str:
    if rule.per == "user":
        from flask_login import current_user

        if current_user.is_authenticated:
            return f"user:{current_user.id}"
    return f"address:{request.remote_addr or 'unknown'}"


def hit(rule: Rule, limit: Limit, identity: str, now: float | None = None) -> tuple[int, int]:
    """Count one request by ``identity`` under ``rule``; return (hits in this window, seconds
    until the window ends). The count is one atomic upsert in its own transaction."""
    now = clock() if now is None else now
    window = int(now // limit.seconds)
    window_end = (window + 1) * limit.seconds
    key = f"{rule.name}:{window}:{_client_digest(identity)}"
    table = RateLimitCounter.__table__
    engine = db.engine
    insert = postgresql_insert if engine.dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(key=key, hits=1, expires_at=datetime.fromtimestamp(window_end, UTC))
        .on_conflict_do_update(index_elements=[table.c.key], set_={"hits": table.c.hits + 1})
        .returning(table.c.hits)
    )
    with engine.begin() as connection:
        hits = connection.execute(statement).scalar_one()
    if random.random() < PRUNE_CHANCE:  # nosec B311  # when to tidy up, not a secret
        prune(now)
    return hits, max(1, math.ceil(window_end - now))


def prune(now: float | None = None) -> int:
    """Delete counters whose window has ended; return how many."""
    moment = datetime.fromtimestamp(clock() if now is None else now, UTC)
    with db.engine.begin() as connection:
        result = connection.execute(
            delete(RateLimitCounter).where(RateLimitCounter.expires_at < moment)
        )
    return result.rowcount or 0


class RateLimited(TooManyRequests):
    description = (
        "You have made too many requests of this kind in a short time. Please wait a little "
        "and try again."
    )


def check_request() -> None:
    """Before each request: count it under every rule it matches.

    :raise RateLimited: (429) when one of them is over its limit.
    """
    if not current_app.config.get("RATE_LIMITS_ENABLED", True):
        return
    for rule in RULES:
        if not rule.matches(request.endpoint, request.path, request.method):
            continue
        limit = parse_limit(str(current_app.config.get(rule.setting, rule.default)))
        if limit is None:
            continue
        try:
            hits, retry_after = hit(rule, limit, _identity(rule))
        except SQLAlchemyError:
            # The database is the store: if it is down the request fails anyway; do not add a
            # second error on top of it.
            log.warning("rate limit %s not counted: the database did not answer", rule.name)
            return
        if hits > limit.count:
            g.rate_limited = rule.name
            raise RateLimited(retry_after=retry_after)


def _too_many(error: TooManyRequests):
    retry_after = getattr(error, "retry_after", None)
    seconds = int(retry_after) if isinstance(retry_after, int | float) else 60
    if request.path.startswith("/api/"):
        response = jsonify(error=error.description, status=429, retry_after=seconds)
    else:
        response = current_app.response_class(
            render_template("errors/429.html", error=error, retry_after=seconds)
        )
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app: Flask) -> None:
    """Check the configured limits (a bad one stops the app starting), count requests before each
    view, render 429s."""
    app.config["RATE_LIMITS_ENABLED"] = as_bool(app.config["RATE_LIMITS_ENABLED"])
    configured_limits(app)
    app.before_request(check_request)
    app.register_error_handler(429, _too_many)
