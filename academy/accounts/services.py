"""Account operations. Each changes rows and flushes; the caller commits once.

None of them reveals whether an email address has an account: registering a known address or
asking to reset an unknown one ends with the same message to the person at the screen, and only
the mailbox owner learns more.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select, update

from academy.accounts.models import AuthSession, LoginAttempt, PasswordReset, User
from academy.accounts.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from academy.accounts.security import end_other_sessions, session_cutoff, token_digest
from academy.db_types import utcnow
from academy.extensions import db
from academy.mail import outbox
from academy.unit_of_work import DomainError
from academy.urls import absolute

EMAIL_PATTERN = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")


@cache
def _dummy_hash() -> str:
    """Verifying against this when the address is unknown takes as long as a real check."""
    return hash_password("not-a-real-password-for-timing")


class AccountError(DomainError):
    """A refusal with a message fit to show the person who asked."""


class LoginThrottled(AccountError):
    pass


class InvalidCredentials(AccountError):
    pass


class EmailNotConfirmed(AccountError):
    pass


class InvalidToken(AccountError):
    pass


class WrongPassword(AccountError):
    pass


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    """Signs with ``SECRET_KEY`` and still accepts links signed with a key in
    ``SECRET_KEY_FALLBACKS`` (itsdangerous takes the newest key last), so rotating the key does
    not break the confirmation links already sent."""
    keys = [*current_app.config.get("SECRET_KEY_FALLBACKS", []), current_app.config["SECRET_KEY"]]
    return URLSafeTimedSerializer(keys, salt=f"accounts.{purpose}")


def _external(endpoint: str, **values) -> str:
    return absolute(endpoint, **values)


def register(name: str, email: str, password: str) -> None:
    """Start a registration; the account works once its owner follows the emailed link.

    A new address gets an account (unconfirmed) and a confirmation link. A confirmed address
    gets a note that someone tried to register it. An unconfirmed one takes the new name and
    password and a new link, which makes any earlier link useless.
    :raise AccountError: if the password breaks the rules.
    """
    email = normalise_email(email)
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise AccountError(problem)
    user = find_user(email)
    if user is not None and user.is_confirmed:
        outbox.queue(
            user.email, "already_registered", user=user, login_url=_external("accounts.login")
        )
        return
    if user is None:
        user = User(email=email, name=name, calendar_token=secrets.token_urlsafe(24))
        db.session.add(user)
    user.name = name
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    db.session.flush()
    send_confirmation(user)


def send_confirmation(user: User) -> None:
    token = _serializer("confirm").dumps({"u": user.id, "h": user.password_hash[-16:]})
    outbox.queue(
        user.email,
        "confirm_email",
        user=user,
        link=_external("accounts.confirm", token=token),
        days=current_app.config["CONFIRM_LINK_DAYS"],
    )


def confirm_email(token: str) -> User:
    """Confirm the address named in a registration link and return its user.

    :raise InvalidToken: if the link is malformed, expired or outdated by a later registration.
    """
    max_age = int(current_app.config["CONFIRM_LINK_DAYS"]) * 86400
    try:
        data = _serializer("confirm").loads(token, max_age=max_age)
    except SignatureExpired as error:
        raise InvalidToken("That link has expired. Register again to get a new one.") from error
    except BadSignature as error:
        raise InvalidToken("That link is not valid. Check you copied all of it.") from error
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or user.password_hash[-16:] != data.get("h"):
        raise InvalidToken("That link has been replaced by a newer one. Use the latest email.")
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
        db.session.flush()
    return user


def _recent_failures(column, value: str, since: datetime) -> int:
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.attempted_at > since
        )
    )


def authenticate(email: str, password: str, address: str, now: datetime | None = None) -> User:
    """Return the user whose address and password these are; records each failure.

    :raise LoginThrottled: after too many failures for this address or this client in the window
        (checked before the password, so guessing on is pointless).
    :raise InvalidCredentials: for a wrong address or password (the same message for both).
    :raise EmailNotConfirmed: for the right password on an unconfirmed account (a new link
        is sent).
    """
    now = now or utcnow()
    config = current_app.config
    email = normalise_email(email)[:254]
    address = (address or "unknown")[:64]
    window = now - timedelta(minutes=int(config["LOGIN_WINDOW_MINUTES"]))
    if _recent_failures(LoginAttempt.email, email, window) >= int(
        config["LOGIN_FAILURES_PER_ACCOUNT"]
    ) or _recent_failures(LoginAttempt.address, address, window) >= int(
        config["LOGIN_FAILURES_PER_ADDRESS"]
    ):
        raise LoginThrottled(
            "Too many failed attempts to log in. Wait "
            f"{config['LOGIN_WINDOW_MINUTES']} minutes and try again, or reset your password."
        )
    user = find_user(email)
    if user is None:
        verify_password(_dummy_hash(), password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if not ok:
        db.session.add(LoginAttempt(email=email, address=address, attempted_at=now))
        db.session.flush()
        raise InvalidCredentials("The email address or password is not right.")
    if not user.is_confirmed:
        send_confirmation(user)
        raise EmailNotConfirmed(
            "Confirm your email address first: we have sent you a new link to do so."
        )
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def request_password_reset(email: str) -> None:
    """Email a reset link if the address has an account; do nothing visible otherwise."""
    user = find_user(email)
    if user is None:
        return
    token = secrets.token_urlsafe(32)
    minutes = int(current_app.config["RESET_LINK_MINUTES"])
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=token_digest(token),
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    db.session.flush()
    outbox.queue(
        user.email,
        "password_reset",
        user=user,
        link=_external("accounts.reset_password", token=token),
        minutes=minutes,
    )


def check_reset_token(token: str, now: datetime | None = None) -> PasswordReset:
    """:raise InvalidToken: unless ``token`` is an unused, unexpired reset link."""
    now = now or utcnow()
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == token_digest(token[:200]))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise InvalidToken(
            "That reset link has expired or has already been used. Ask for a new one below."
        )
    return reset


def reset_password(token: str, password: str, now: datetime | None = None) -> User:
    """Set a new password from a reset link, once; every session of the user ends.

    :raise InvalidToken: if the link is unknown, expired or used (even by a racing request).
    :raise AccountError: if the password breaks the rules.
    """
    now = now or utcnow()
    reset = check_reset_token(token, now)
    user = reset.user
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem)
    used = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if used != 1:
        raise InvalidToken("That reset link has already been used. Ask for a new one below.")
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    # Following the emailed link proves the address.
    user.email_confirmed_at = user.email_confirmed_at or now
    user.session_token = None
    end_other_sessions(user)
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change the password; every other session of the user ends.

    :raise WrongPassword: if ``current`` is not the user's password.
    :raise AccountError: if ``new`` breaks the rules.
    """
    if not verify_password(user.password_hash, current):
        raise WrongPassword("Your current password is not right.")
    problem = password_problem(new, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    end_other_sessions(user)
    db.session.flush()


def request_email_change(user: User, password: str, new_email: str) -> None:
    """Email a link to ``new_email``; the address changes only when that link is followed.

    The old address is told. If the new address already has an account, its owner is told
    instead, and the person at the screen sees the same message either way.
    :raise WrongPassword: if ``password`` is not the user's password.
    """
    if not verify_password(user.password_hash, password):
        raise WrongPassword("Your password is not right.")
    new_email = normalise_email(new_email)
    if find_user(new_email) is not None:
        outbox.queue(new_email, "email_taken", login_url=_external("accounts.login"))
        return
    token = _serializer("change-email").dumps({"u": user.id, "old": user.email, "new": new_email})
    outbox.queue(
        new_email,
        "confirm_new_email",
        user=user,
        link=_external("accounts.confirm_email_change", token=token),
    )


def confirm_email_change(token: str) -> User:
    """Move an account to the address that received the link.

    :raise InvalidToken: if the link is bad, expired (a day), outdated, or the address is taken.
    """
    try:
        data = _serializer("change-email").loads(token, max_age=86400)
    except BadSignature as error:  # includes SignatureExpired
        raise InvalidToken("That link has expired or is not valid. Ask again.") from error
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or user.email != data.get("old"):
        raise InvalidToken("That link is out of date. Ask again.")
    if find_user(data["new"]) is not None:
        raise InvalidToken("That address now belongs to another account.")
    old = user.email
    user.email = data["new"]
    user.email_confirmed_at = utcnow()
    db.session.flush()
    outbox.queue(old, "email_changed", user=user, old=old)
    return user


def update_profile(user: User, **fields) -> None:
    """Set name, sector, profession, region, employer, regulator (ids or ``None``) and the NMC
    revalidation date (a date or ``None``)."""
    keys = (
        "name",
        "sector_id",
        "profession_id",
        "region_id",
        "employer",
        "regulator",
        "revalidation_on",
    )
    for key in keys:
        if key in fields:
            setattr(user, key, fields[key])
    db.session.flush()


def reset_calendar_token(user: User) -> str:
    """Give the user a new private calendar address; the old one stops working at once."""
    user.calendar_token = secrets.token_urlsafe(24)
    db.session.flush()
    return user.calendar_token


def create_user(
    name: str, email: str, password: str, *, confirmed: bool = True, curator: bool = False
) -> User:
    """Create an account directly (commands and tests); :raise AccountError: on bad input."""
    email = normalise_email(email)
    if not EMAIL_PATTERN.match(email):
        raise AccountError("Enter an email address like name@example.org.")
    if find_user(email) is not None:
        raise AccountError(f"{email} already has an account.")
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise AccountError(problem)
    user = User(
        name=name,
        email=email,
        password_hash=hash_password(password),
        calendar_token=secrets.token_urlsafe(24),
        email_confirmed_at=utcnow() if confirmed else None,
        is_curator=curator,
    )
    db.session.add(user)
    db.session.flush()
    return user


def purge_old_attempts(now: datetime | None = None) -> None:
    """Forget failed log-ins older than a day (they no longer count towards any limit) and
    sessions that have expired."""
    now = now or utcnow()
    cutoff = now - timedelta(days=1)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff))
    db.session.execute(delete(AuthSession).where(AuthSession.created_at <= session_cutoff()))
