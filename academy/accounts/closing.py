"""Accounts' own part of deleting an account (``academy.erasure`` coordinates the whole).

The ``users`` row stays, anonymised in place, so enrolments keep pointing at it and providers'
counts stay right; sessions, emailed links, failed log-ins and memberships go.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, func, select

from academy.accounts import tokens
from academy.accounts.errors import WrongPassword
from academy.accounts.models import AuthSession, LoginAttempt, ProviderMembership, User
from academy.accounts.passwords import verify_password
from academy.extensions import db
from academy.mail.outbox import DELETED_ACCOUNT_DOMAIN
from academy.providers.models import Provider
from academy.redact import DELETED_NAME

#: no Argon2 hash starts with "!", so nothing ever verifies against this
UNUSABLE_PASSWORD = "!deleted"  # nosec B105  # not a password: a hash nothing matches


def check_password(user: User, password: str) -> None:
    """:raise WrongPassword: unless ``password`` is ``user``'s (nothing is changed)."""
    if not verify_password(user.password_hash, password or ""):
        raise WrongPassword("Your password is not right, so nothing has been deleted.")


def sole_admin_of(user: User) -> list[Provider]:
    """Organisations of which ``user`` is the only admin (they must hand over first)."""
    admins = (
        select(ProviderMembership.provider_id, func.count().label("admins"))
        .where(ProviderMembership.is_admin.is_(True))
        .group_by(ProviderMembership.provider_id)
        .subquery()
    )
    return db.session.scalars(
        select(Provider)
        .join(ProviderMembership, ProviderMembership.provider_id == Provider.id)
        .join(admins, admins.c.provider_id == Provider.id)
        .where(
            ProviderMembership.user_id == user.id,
            ProviderMembership.is_admin.is_(True),
            admins.c.admins <= 1,
        )
        .order_by(Provider.name)
    ).all()


def forget_sign_in(user: User) -> None:
    """Delete the user's sessions, emailed links, failed log-ins for their address and
    provider memberships (flushes, never commits)."""
    db.session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    tokens.forget(user)
    db.session.execute(
        delete(LoginAttempt).where(func.lower(LoginAttempt.email) == user.email.lower())
    )
    for membership in list(user.memberships):
        user.memberships.remove(membership)
    db.session.flush()


def anonymise(user: User, now: datetime) -> None:
    """Overwrite everything that names the user; the account can never be used again."""
    user.name = DELETED_NAME
    user.email = f"deleted-{secrets.token_hex(12)}{DELETED_ACCOUNT_DOMAIN}"
    user.password_hash = UNUSABLE_PASSWORD
    user.password_changed_at = now
    user.email_confirmed_at = None
    user.is_curator = False
    user.sector_id = user.profession_id = user.region_id = None
    user.employer = ""
    user.regulator = ""
    user.revalidation_on = None
    user.calendar_token = secrets.token_urlsafe(24)
    user.deleted_at = now
    user.session_token = None
    db.session.flush()
