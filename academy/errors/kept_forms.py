"""Nothing typed is lost when a form is sent after the session ended or with a stale token.

Flask-WTF refuses such a POST with ``CSRFError`` before any view runs. Instead of a bare "Bad
Request", :func:`keep_and_redirect` keeps what was typed and sends the person on:

* **Where it is kept.** In the ``kept_forms`` table, under the SHA-256 of a random token whose
  only copy is an HttpOnly cookie (``academy_kept_form``) of the browser that sent the form. The
  typed text is never put in a URL, and passwords are never kept.
* **Who may read it.** The person who typed it. While someone is logged in, every response
  carries a second HttpOnly cookie (``academy_form_owner``) holding a keyed hash of their id (not
  the id). A form kept with that hash is given back only to the same person after they log in
  again; someone else logging in on the same browser gets nothing (and their own hash replaces
  the cookie). A form typed by someone who was never logged in (registration, log in) is given
  back to the same browser only.
* **Bringing it back.** A 400 page says nothing was saved, that what was typed is kept, and
  links to the page the form lives on (through the log-in page, with ``next``, when the session
  had ended). On that page the next form built
  (any ``FlaskForm``) is filled from the kept data instead of being empty, the row is deleted,
  and a line says so. Nothing is saved until the person presses the button again.

Kept forms expire after ``KEPT_FORM_HOURS`` (default 24).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_url
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from sqlalchemy import Integer, String, Text, delete, insert, inspect, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from academy.db_types import UTCDateTime, utcnow
from academy.extensions import db, login_manager

KEPT_COOKIE = "academy_kept_form"
OWNER_COOKIE = "academy_form_owner"
#: fields never kept: the token itself and anything holding a password
_NEVER_KEPT = ("csrf_token",)
#: at most this much typed text is kept (more than any form here accepts)
MAX_KEPT_CHARACTERS = 500_000
RESTORED_MESSAGE = (
    "What you typed before your session ended is back in the form below. "
    "Nothing has been saved yet: check it and send it again."
)


class KeptForm(db.Model):
    """What someone typed into a form that could not be accepted because their session had
    ended; found only through the token in their browser's cookie."""

    __tablename__ = "kept_forms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: keyed hash of the user id of whoever was logged in on that browser, or empty
    owner: Mapped[str] = mapped_column(String(64), default="")
    #: the path (and query) of the page the form lives on
    return_to: Mapped[str] = mapped_column(String(2000))
    #: JSON list of [name, value] pairs, in the order sent
    fields: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime(timezone=True), default=utcnow, nullable=False)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def owner_hash(user_id: int) -> str:
    """A keyed hash of a user id: says who typed a form without putting the id in a cookie."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, f"kept-form-owner:{user_id}".encode(), hashlib.sha256).hexdigest()


def _current_owner() -> str:
    if current_user.is_authenticated:
        return owner_hash(current_user.id)
    return ""


def _typed_fields() -> list[list[str]]:
    """What was typed, without the token, passwords or files (in the order sent)."""
    kept, size = [], 0
    for name, value in request.form.items(multi=True):
        if name in _NEVER_KEPT or "password" in name.lower():
            continue
        size += len(name) + len(value)
        if size > MAX_KEPT_CHARACTERS:
            break
        kept.append([name, value])
    return kept


def _get_route(path: str) -> str | None:
    """The endpoint that answers a GET for ``path``, or ``None``."""
    adapter = current_app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return None
    return None if endpoint == "static" else endpoint


def page_for_get(path: str) -> str | None:
    """The nearest page a person can open for ``path``: the path itself when it answers a GET,
    else the closest parent that does (``/portfolio/entries/1/evidence`` →
    ``/portfolio/entries/1``). ``None`` when only the home page is left."""
    if _get_route(path):
        return path
    parts = path.rstrip("/").split("/")
    while len(parts) > 2:
        parts.pop()
        parent = "/".join(parts)
        if _get_route(parent):
            return parent
    return None


def form_home() -> str:
    """Where the form just sent lives: the address it was sent to when that shows the form,
    else the page it was sent from (same site only), else the nearest page above it."""
    if _get_route(request.path):
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path and _get_route(referrer.path):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return page_for_get(request.path) or "/"


def keep(return_to: str) -> str | None:
    """Keep what was typed and return the cookie token, or ``None`` if nothing was typed.

    Written in a transaction of its own (as the rate limiter's counters are): the request that
    brought the form is refused (400) and rolled back, but what was typed must outlive it.
    """
    fields = _typed_fields()
    if not any(value.strip() for _, value in fields):
        return None
    table = KeptForm.__table__
    now = utcnow()
    oldest = now - timedelta(hours=float(current_app.config.get("KEPT_FORM_HOURS", 24)))
    token = secrets.token_urlsafe(32)
    with db.engine.begin() as connection:
        connection.execute(delete(table).where(table.c.created_at < oldest))
        previous = request.cookies.get(KEPT_COOKIE)
        if previous:
            connection.execute(delete(table).where(table.c.token_hash == _digest(previous)))
        connection.execute(
            insert(table).values(
                token_hash=_digest(token),
                owner=_current_owner() or _cookie_owner(),
                return_to=return_to[:2000],
                fields=json.dumps(fields, ensure_ascii=False),
                created_at=now,
            )
        )
    return token


def _cookie_owner() -> str:
    value = request.cookies.get(OWNER_COOKIE, "")
    return value if len(value) == 64 and all(c in "0123456789abcdef" for c in value) else ""


def keep_and_explain(error):
    """The answer to a refused form (``CSRFError``): keep what was typed, then a 400 page that
    says so and links to log in again (the session ended) or back to the form (a stale token).
    Nothing the form asked for is done."""
    return_to = form_home()
    token = keep(return_to)
    must_log_in = bool(token) and not current_user.is_authenticated and bool(_cookie_owner())
    page = render_template(
        "errors/stale_form.html",
        kept=bool(token),
        must_log_in=must_log_in,
        onward=url_for("accounts.login", next=return_to) if must_log_in else return_to,
    )
    response = make_response(page, 400)
    if token:
        _set_cookie(response, KEPT_COOKIE, token)
    return response


def keep_and_log_in():
    """A form sent to a page for logged-in people when the session ended on the server (it
    expired, or was ended from another device) but the browser's token is still good: keep what
    was typed and ask the person to log in, then bring them back to the form."""
    return_to = form_home()
    token = keep(return_to)
    flash(
        "Your session had ended, so nothing was saved."
        + (" We have kept what you typed: log in again to go back to it." if token else ""),
        "info",
    )
    response = redirect(url_for("accounts.login", next=return_to))  # 302, as Flask-Login
    if token:
        _set_cookie(response, KEPT_COOKIE, token)
    return response


def _set_cookie(response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        max_age=None
        if name == OWNER_COOKIE
        else int(float(current_app.config.get("KEPT_FORM_HOURS", 24)) * 3600),
    )


def _load_kept() -> None:
    """Before a GET: find this browser's kept form if this is its page and its person."""
    g.pop("kept_form", None)
    g.pop("kept_form_used", None)
    token = request.cookies.get(KEPT_COOKIE)
    if request.method != "GET" or not token or len(token) > 100:
        return
    kept = db.session.scalar(select(KeptForm).where(KeptForm.token_hash == _digest(token)))
    if kept is None:
        return
    here = request.full_path.rstrip("?")
    if kept.return_to not in (here, request.path):
        return
    if kept.owner and kept.owner != _current_owner():
        return
    hours = float(current_app.config.get("KEPT_FORM_HOURS", 24))
    if kept.created_at < utcnow() - timedelta(hours=hours):
        return
    g.kept_form = kept


def _restore(form: FlaskForm) -> MultiDict | None:
    """The kept data for ``form``, once, if it has fields of that form; deletes the row."""
    kept = g.get("kept_form")
    if kept is None or getattr(g, "kept_form_used", False):
        return None
    pairs = json.loads(kept.fields)
    names = {name for name, _ in pairs}
    if not names & set(getattr(form, "_fields", {})):
        return None
    g.kept_form_used = True
    db.session.execute(delete(KeptForm).where(KeptForm.id == kept.id))
    flash(RESTORED_MESSAGE, "info")
    return MultiDict(pairs)


_original_wrap_formdata = FlaskForm.Meta.wrap_formdata


def _wrap_formdata(self, form, formdata):
    # Every form in the app is a FlaskForm, so this one hook brings a kept form back wherever
    # it lives, without each view knowing about it. A GET builds its form with no form data
    # (``_Auto``, or ``None`` with the saved values as ``data``); the kept data wins over both.
    if (formdata is _Auto or formdata is None) and request.method == "GET":
        restored = _restore(form)
        if restored is not None:
            return restored
    return _original_wrap_formdata(self, form, formdata)


def _after(response):
    if g.get("kept_form_used"):
        response.delete_cookie(KEPT_COOKIE, httponly=True, samesite="Lax")
    login = g.get("_login_user")
    if login is not None and login.is_authenticated:
        # the id from the identity map: ``login.id`` would read the row again, since the
        # request's commit has expired it
        owner = owner_hash(inspect(login).identity[0])
        if request.cookies.get(OWNER_COOKIE) != owner:
            _set_cookie(response, OWNER_COOKIE, owner)
    return response


def _keeping_unauthorized(previous):
    """Flask-Login's "log in first" answer, except that a form sent without a session is kept.
    ``previous`` is the handler set before (``None``: Flask-Login's own redirect)."""

    def unauthorized():
        if request.method == "POST" and not request.path.startswith("/api/"):
            return keep_and_log_in()
        if previous is not None:
            return previous()
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(login_url(login_manager.login_view, request.url))

    unauthorized.keeps_forms = True
    return unauthorized


def init_app(app: Flask) -> None:
    """Keep refused forms, bring them back on their page, and mark whose they are."""
    FlaskForm.Meta.wrap_formdata = _wrap_formdata
    # the login manager is one object for every app made in this process: wrap it once
    if not getattr(login_manager.unauthorized_callback, "keeps_forms", False):
        login_manager.unauthorized_handler(
            _keeping_unauthorized(login_manager.unauthorized_callback)
        )
    app.before_request(_load_kept)
    app.after_request(_after)
