"""Account operations. Each changes rows and flushes; the caller commits once.

None of them reveals whether an email address has an account, by what it says or by how long it
takes: registering, logging in and asking for a reset do the same work for a known and an
unknown address (the password is always hashed or verified, a mail is always queued), and only
the mailbox owner learns more. Emailed links are :mod:`academy.accounts.tokens`: stored as a
hash, single-use, expiring and bound to the account state they were issued for.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import delete, func, select

from academy.accounts import tokens
from academy.accounts.errors import (  # noqa: F401  (the errors are part of this module's face)
    AccountError,
    EmailNotConfirmed,
    InvalidCredentials,
    InvalidToken,
    LoginThrottled,
    WrongPassword,
)
from academy.accounts.models import AuthSession, EmailToken, LoginAttempt, User
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
from academy.text import EMAIL_ADDRESS
from academy.urls import absolute

CONFIRM_MESSAGES = {
    "unknown": "That link is not valid. Check you copied all of it, or register again.",
    "used": "That link has already been used, so your address is confirmed. Log in to carry on.",
    "expired": "That link has expired. Register again to get a new one.",
    "outdated": "That link has been replaced by a newer one. Use the latest email.",
}
RESET_MESSAGES = {
    "unknown": "That reset link is not valid. Ask for a new one below.",
    "used": "That reset link has already been used. Ask for a new one below.",
    "expired": "That reset link has expired. Ask for a new one below.",
    "outdated": "That reset link no longer works: your password has changed since it was sent. "
    "Ask for a new one below.",
}
EMAIL_CHANGE_MESSAGES = {
    "unknown": "That link is not valid. Check you copied all of it, or ask again.",
    "used": "That link has already been used.",
    "expired": "That link has expired. Ask again.",
    "outdated": "That link is out of date: your account has changed since it was sent. Ask again.",
}


@cache
def _dummy_hash() -> str:
    """Verifying against this when the address is unknown takes as long as a real check."""
    return hash_password("not-a-real-password-for-timing")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _external(endpoint: str, **values) -> str:
    values = {key: value for key, value in values.items() if value is not None}
    return absolute(endpoint, **values)


def register(name: str, email: str, password: str, next_path: str | None = None) -> None:
    """Start a registration; the account works once its owner follows the emailed link.

    A new address gets an account (unconfirmed) and a confirmation link. A confirmed address
    gets a note that someone tried to register it. An unconfirmed one takes the new name and
    password and a new link, which makes any earlier link useless. The password is hashed in
    every case, so the answer takes as long whether or not the address has an account.
    ``next_path`` (a path on this site) is where the links lead after logging in.
    :raise AccountError: if the password breaks the rules.
    """
    email = normalise_email(email)
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise AccountError(problem)
    password_hash = hash_password(password)
    user = find_user(email)
    if user is not None and user.is_confirmed:
        outbox.queue(
            user.email,
            "already_registered",
            user=user,
            login_url=_external("accounts.login", next=next_path),
        )
        return
    if user is None:
        user = User(email=email, name=name, calendar_token=secrets.token_urlsafe(24))
        db.session.add(user)
    user.name = name
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    db.session.flush()
    send_confirmation(user, next_path)


def send_confirmation(user: User, next_path: str | None = None) -> None:
    """Mail ``user`` a new single-use link that confirms their address (flushes)."""
    days = int(current_app.config["CONFIRM_LINK_DAYS"])
    token = tokens.issue(user, "confirm", timedelta(days=days))
    outbox.queue(
        user.email,
        "confirm_email",
        user=user,
        link=_external("accounts.confirm", token=token, next=next_path),
        days=days,
    )


def confirm_email(token: str, now: datetime | None = None) -> User:
    """Confirm the address a registration link was sent to, once, and return its user.

    :raise InvalidToken: if the link is unknown, used, expired, outdated by a later
        registration, or the address is already confirmed (by another link or a reset): a link
        never logs anyone in twice.
    """
    row = tokens.check(token, "confirm", CONFIRM_MESSAGES, now)
    user = row.user
    if user.is_confirmed:
        raise InvalidToken(CONFIRM_MESSAGES["used"])
    tokens.consume(row, CONFIRM_MESSAGES["used"], now)
    user.email_confirmed_at = now or utcnow()
    db.session.flush()
    return user


def _recent_failures(column, value: str, since: datetime) -> int:
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            column == value, LoginAttempt.attempted_at > since
        )
    )


def authenticate(
    email: str,
    password: str,
    address: str,
    now: datetime | None = None,
    next_path: str | None = None,
) -> User:
    """Return the user whose address and password these are; records each failure.

    An unknown address is checked against a dummy hash, so it takes as long as a known one.

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
    dummy = _dummy_hash()  # made on the first log-in of any kind, not the first unknown one
    user = find_user(email)
    if user is None:
        verify_password(dummy, password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    if not ok:
        db.session.add(LoginAttempt(email=email, address=address, attempted_at=now))
        db.session.flush()
        raise InvalidCredentials("The email address or password is not right.")
    if not user.is_confirmed:
        send_confirmation(user, next_path)
        raise EmailNotConfirmed(
            "Confirm your email address first: we have sent you a new link to do so."
        )
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def request_password_reset(email: str) -> None:
    """Email a single-use reset link if the address has an account, else a note saying no
    account uses it: the same work (a token made, a mail queued) either way."""
    email = normalise_email(email)
    user = find_user(email)
    minutes = int(current_app.config["RESET_LINK_MINUTES"])
    if user is None or user.deleted_at is not None:
        token_digest(secrets.token_urlsafe(32))  # as much work as issuing one
        outbox.queue(email, "reset_no_account", register_url=_external("accounts.register"))
        return
    token = tokens.issue(user, "reset", timedelta(minutes=minutes))
    outbox.queue(
        user.email,
        "password_reset",
        user=user,
        link=_external("accounts.reset_password", token=token),
        minutes=minutes,
    )


def check_reset_token(token: str, now: datetime | None = None) -> EmailToken:
    """The live reset token, not yet used.

    :raise InvalidToken: unless ``token`` is an unused, unexpired reset link issued since the
        password last changed.
    """
    return tokens.check(token, "reset", RESET_MESSAGES, now)


def reset_password(token: str, password: str, now: datetime | None = None) -> User:
    """Set a new password from a reset link, once; every session of the user ends, and every
    other reset link dies with the old password.

    :raise InvalidToken: if the link is unknown, expired, used (even by a racing request) or
        issued before the password last changed.
    :raise AccountError: if the password breaks the rules.
    """
    now = now or utcnow()
    row = check_reset_token(token, now)
    user = row.user
    problem = password_problem(password, email=user.email, name=user.name)
    if problem:
        raise AccountError(problem)
    tokens.consume(row, RESET_MESSAGES["used"], now)
    user.password_hash = hash_password(password)
    user.password_changed_at = now
    # Following the emailed link proves the address.
    user.email_confirmed_at = user.email_confirmed_at or now
    user.session_token = None
    end_other_sessions(user)
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """Change the password; every other session of the user ends, and so does every reset link
    sent before (they are bound to the old password).

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
    token = tokens.issue(user, "change_email", timedelta(days=1), new_email=new_email)
    outbox.queue(
        new_email,
        "confirm_new_email",
        user=user,
        link=_external("accounts.confirm_email_change", token=token),
    )


def confirm_email_change(token: str, now: datetime | None = None) -> User:
    """Move an account to the address that received the link, once.

    :raise InvalidToken: if the link is unknown, used, expired (a day), outdated by a change of
        address or password, or the address is now taken.
    """
    row = tokens.check(token, "change_email", EMAIL_CHANGE_MESSAGES, now)
    if find_user(row.new_email) is not None:
        raise InvalidToken("That address now belongs to another account.")
    tokens.consume(row, EMAIL_CHANGE_MESSAGES["used"], now)
    user = row.user
    old = user.email
    user.email = row.new_email
    user.email_confirmed_at = now or utcnow()
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
    if not EMAIL_ADDRESS.match(email):
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
    """Forget failed log-ins older than a day (they no longer count towards any limit), emailed
    links that expired over a day ago and sessions that have expired."""
    now = now or utcnow()
    cutoff = now - timedelta(days=1)
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff))
    db.session.execute(delete(EmailToken).where(EmailToken.expires_at < cutoff))
    db.session.execute(delete(AuthSession).where(AuthSession.created_at <= session_cutoff()))
