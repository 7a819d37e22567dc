"""Emailed links that do one thing once: confirm an address, reset a password, move an address.

A token is 32 random bytes; only its SHA-256 is stored (``EmailToken``), so a copy of the
database opens no account. Each token has a purpose, an expiry and a fingerprint of the account
state it was issued for (:func:`account_state`: the address and the password hash). It is
consumed by one conditional ``UPDATE ... WHERE used_at IS NULL``, so two simultaneous uses cannot
both succeed; and it stops working as soon as the account leaves that state: a reset link dies
when the password changes by any route, a confirmation link when its owner registers again.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm.attributes import set_committed_value

from academy.accounts.errors import InvalidToken
from academy.accounts.models import EmailToken, User
from academy.accounts.security import token_digest
from academy.db_types import utcnow
from academy.extensions import db

#: longer than any token we issue (43 characters); anything longer is not looked up
MAX_TOKEN_LENGTH = 100


def account_state(user: User) -> str:
    """A fingerprint of what a token is bound to: the account's address and password hash."""
    state = f"{user.id}\n{user.email}\n{user.password_hash}"
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()


def issue(user: User, purpose: str, lifetime: timedelta, *, new_email: str = "") -> str:
    """Store a new token for ``user`` and return it (the only copy; flushes, never commits)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        EmailToken(
            token_hash=token_digest(token),
            purpose=purpose,
            user_id=user.id,
            bound_to=account_state(user),
            new_email=new_email,
            expires_at=utcnow() + lifetime,
        )
    )
    db.session.flush()
    return token


def find(token: str, purpose: str) -> EmailToken | None:
    """The stored token for ``token`` and ``purpose``, used or not, or ``None``."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == token_digest(token), EmailToken.purpose == purpose
        )
    )


def check(token: str, purpose: str, messages: dict[str, str], now: datetime | None = None):
    """Return the live stored token for ``token``, without using it.

    ``messages`` maps each reason (``unknown``, ``used``, ``expired``, ``outdated``) to what the
    person is told.
    :raise InvalidToken: with the message for the first reason that applies.
    """
    now = now or utcnow()
    row = find(token, purpose)
    if row is None:
        raise InvalidToken(messages["unknown"])
    if row.used_at is not None:
        raise InvalidToken(messages["used"])
    if row.expires_at <= now:
        raise InvalidToken(messages["expired"])
    if row.bound_to != account_state(row.user):
        raise InvalidToken(messages["outdated"])
    return row


def consume(row: EmailToken, message: str, now: datetime | None = None) -> None:
    """Mark ``row`` used, once: of two requests racing with the same token only one gets here.

    :raise InvalidToken: with ``message`` if another request used it first (or it expired).
    """
    now = now or utcnow()
    used = db.session.execute(
        update(EmailToken)
        .where(
            EmailToken.id == row.id,
            EmailToken.used_at.is_(None),
            EmailToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if used != 1:
        raise InvalidToken(message)
    set_committed_value(row, "used_at", now)


def forget(user: User) -> None:
    """Delete every token of ``user`` (account erasure)."""
    db.session.execute(delete(EmailToken).where(EmailToken.user_id == user.id))
