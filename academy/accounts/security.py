"""Server-side sessions for Flask-Login, safe ``next`` redirects and role checks."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

from flask import abort, current_app, request, session
from flask_login import current_user, login_user, logout_user
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import joinedload

from academy.accounts.models import AuthSession, User
from academy.db_types import utcnow
from academy.extensions import db


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def load_user(token: str) -> User | None:
    """Flask-Login's user loader: the user whose live session has this token, else ``None``
    (also for a deleted account, whatever sessions it had)."""
    if not token or len(token) > 100:
        return None
    user = (
        db.session.scalars(
            _user_statement(), {"token_hash": token_digest(token), "cutoff": session_cutoff()}
        )
        .unique()
        .first()
    )
    if user is not None:
        user.session_token = token
        # kept as a plain attribute: the request log asks after the commit has expired the row
        user.role_when_loaded = user.role
    return user


@cache
def _user_statement():
    """``load_user``'s one statement, the memberships (which every role check reads) joined in;
    built once: only its parameters, ``token_hash`` and ``cutoff``, change."""
    return (
        select(User)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            AuthSession.token_hash == bindparam("token_hash"),
            AuthSession.created_at > bindparam("cutoff"),
            User.deleted_at.is_(None),
        )
        .options(joinedload(User.memberships))
    )


def session_cutoff() -> datetime:
    """Sessions started before this have expired (``SESSION_MAX_AGE_DAYS``, 14 by default)."""
    return utcnow() - timedelta(days=float(current_app.config["SESSION_MAX_AGE_DAYS"]))


def start_session(user: User) -> str:
    """Add a server-side session for ``user`` and return its token (flushes, never commits)."""
    token = secrets.token_urlsafe(32)
    db.session.add(AuthSession(user_id=user.id, token_hash=token_digest(token)))
    db.session.flush()
    user.session_token = token
    return token


def log_in(user: User) -> None:
    """Log ``user`` in with a fresh cookie session and a new server-side session."""
    session.clear()  # a new session: nothing planted before login survives it
    start_session(user)
    login_user(user)


def log_out() -> None:
    """Delete the server-side session, so a copy of the old cookie no longer works."""
    token = current_user.get_id() if current_user.is_authenticated else None
    if token:
        db.session.execute(delete(AuthSession).where(AuthSession.token_hash == token_digest(token)))
    logout_user()
    session.clear()


def end_other_sessions(user: User) -> None:
    """Delete every session of ``user`` except the current one (after a password change)."""
    keep = token_digest(user.session_token) if user.session_token else ""
    db.session.execute(
        delete(AuthSession).where(AuthSession.user_id == user.id, AuthSession.token_hash != keep)
    )


def safe_next(target: str | None) -> str | None:
    """Return ``target`` if it is a path on this site, else ``None``.

    Only relative paths starting with a single ``/`` pass: ``//evil``, ``/\\evil``, any scheme
    or host, backslashes and control characters are refused.
    """
    if not target or len(target) > 2000:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def open_to_all(view):
    """Marks a view that :func:`signed_in_only` lets anyone see (a public page of a blueprint
    whose other pages need an account)."""
    view.open_to_all = True
    return view


def signed_in_only():
    """A blueprint's ``before_request`` guard when every page of it needs an account, but those
    marked :func:`open_to_all`: an anonymous visitor is sent to log in (as ``login_required``
    does, ``next`` kept); anyone signed in goes on to the view, which still checks what they
    may see."""
    from academy.extensions import login_manager

    view = current_app.view_functions.get(request.endpoint or "")
    if not current_user.is_authenticated and not getattr(view, "open_to_all", False):
        return login_manager.unauthorized()
    return None


def curators_only():
    """A blueprint's ``before_request`` guard when every page of it is for curators: anonymous
    visitors are sent to log in, everyone else who is not a curator gets 403."""
    refused = signed_in_only()
    if refused is None and not current_user.is_curator:
        abort(403)
    return refused
