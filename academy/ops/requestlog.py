"""One JSON line per request, a request id on every response, exceptions logged with that id.

A line holds: ``request_id`` (the incoming ``X-Request-Id`` when it is sane, else a new one),
``method``, ``path``, ``endpoint``, ``status``, ``duration_ms`` and ``role`` (anonymous, learner,
provider or curator: never who). What is left out, and why:

- the query string: it holds search terms and filters people typed;
- secrets in the path: a route variable named like a token (``/reset-password/<token>``,
  ``/calendar/<token>.ics``, share links) is logged as its placeholder, ``<token>``;
- addresses, emails, user ids, user agents, referrers and cookies.

Every record of the ``academy`` logger (warnings, errors and their tracebacks included) goes out
through the same JSON formatter, with the request id when there is a request.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, current_app, g, has_request_context, request, session

from academy.config import as_bool

log = logging.getLogger("academy.request")

REQUEST_ID_HEADER = "X-Request-Id"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
SECRET_VARIABLE = re.compile(r"token|secret|key|signature|code|email|password", re.IGNORECASE)
UNMATCHED_PATH_LENGTH = 200
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON: time, level, logger, message, request id, fields."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            line["request_id"] = g.request_id
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and not name.startswith("_"):
                line[name] = value
        if record.exc_info:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(line, default=str, ensure_ascii=False)


class JsonHandler(logging.StreamHandler):
    """The ``academy`` logger's handler (one per process, however many apps are created)."""


def install_handler() -> JsonHandler:
    """Send every ``academy`` log record to standard error as JSON, once per process."""
    logger = logging.getLogger("academy")
    for handler in logger.handlers:
        if isinstance(handler, JsonHandler):
            return handler
    handler = JsonHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    return handler


def logged_path() -> str:
    """The path as logged: from the matched route, with secret-looking variables left as their
    placeholders; an unmatched path is cut to 200 characters. Never the query string."""
    rule = request.url_rule
    if rule is None or not request.view_args:
        return request.path[:UNMATCHED_PATH_LENGTH]
    path = request.path
    for name, value in request.view_args.items():
        if SECRET_VARIABLE.search(name) and isinstance(value, str) and value:
            path = path.replace(value, f"<{name}>")
    return path


def user_role() -> str:
    """anonymous, learner, provider or curator: the role, never the person."""
    from flask_login import current_user

    if "_login_user" not in g and "_user_id" not in session:
        return "anonymous"  # no session: nothing to look up
    try:
        user = current_user._get_current_object()
        if not user.is_authenticated:
            return "anonymous"
        # the role as loaded: reading the row again after the commit would cost two queries
        return getattr(user, "role_when_loaded", None) or user.role
    except Exception:  # the log line must never break the response
        return "unknown"


def start_request() -> None:
    # ``g`` outlives a request when an app context was already pushed (tests): forget the user
    # cached by the last one before a rate limit asks who this is.
    g.pop("_login_user", None)
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = incoming if SANE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def finish_request(response: Response) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    if current_app.config["REQUEST_LOG"]:
        started = g.get("request_started", time.perf_counter())
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": logged_path(),
                "endpoint": request.endpoint,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "role": user_role(),
            },
        )
    return response


def init_app(app: Flask) -> None:
    app.config["REQUEST_LOG"] = as_bool(app.config["REQUEST_LOG"])
    install_handler()
    app.before_request(start_request)
    app.after_request(finish_request)
