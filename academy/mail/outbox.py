"""Queue mail in the caller's transaction; send it after commit, by SMTP or into files.

``queue`` adds a row and flushes: the message exists only if the change it announces is
committed. ``send_pending`` runs after a request that committed mail (see ``academy.mail``) and
from ``flask mail send``; it claims each message with a conditional update, sends it, and on
failure leaves it for a later attempt, so a mail server that is down never loses or undoes an
enrolment.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from academy.db_types import utcnow
from academy.extensions import db
from academy.mail import note_queued
from academy.mail.models import OutboxMessage
from academy.urls import request_or_base_url

log = logging.getLogger(__name__)

#: how long a claimed message is left alone by other senders (a sender that dies mid-send)
CLAIM_FOR = timedelta(minutes=5)


#: erased accounts get an address here (see ``academy.erasure``); nothing is sent to it
DELETED_ACCOUNT_DOMAIN = "@deleted.invalid"


def queue(to_address: str, kind: str, **context) -> OutboxMessage:
    """Render ``templates/mail/<kind>.txt`` and add it to the outbox (flushes, never commits).

    The template's first line is ``Subject: …``; the rest is the body. Mail to a deleted
    account (an address at ``deleted.invalid``) is never queued: the message is returned but not
    added.
    """
    # The Jinja environment directly, without context processors: mail must not depend on who is
    # logged in (and outside a request, looking would cache an anonymous user on ``g``).
    template = current_app.jinja_env.get_template(f"mail/{kind}.txt")
    with request_or_base_url():  # a command or a test: links are built on BASE_URL
        text = template.render(**context)
    first, _, body = text.lstrip().partition("\n")
    subject = first.removeprefix("Subject:").strip()
    message = OutboxMessage(to_address=to_address, kind=kind, subject=subject, body=body.strip())
    if to_address.lower().endswith(DELETED_ACCOUNT_DOMAIN):
        return message
    db.session.add(message)
    db.session.flush()
    note_queued()
    return message


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    given_up: int = 0


def send_pending(
    now: datetime | None = None, *, include_waiting: bool = False, limit: int = 200
) -> SendReport:
    """Send every message that is due; commits after each message.

    ``include_waiting`` also sends messages waiting for a retry (``flask mail send --all``).
    """
    now = now or utcnow()
    report = SendReport()
    due = select(OutboxMessage.id).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
    )
    if not include_waiting:
        due = due.where(OutboxMessage.next_attempt_at <= now)
    ids = db.session.scalars(due.order_by(OutboxMessage.id).limit(limit)).all()
    db.session.rollback()  # release SQLite's read snapshot before the writes below
    for message_id in ids:
        claim = update(OutboxMessage).where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
        )
        if not include_waiting:
            claim = claim.where(OutboxMessage.next_attempt_at <= now)
        claimed = db.session.execute(
            claim.values(next_attempt_at=now + CLAIM_FOR, attempts=OutboxMessage.attempts + 1)
        ).rowcount
        db.session.commit()
        if not claimed:
            continue
        message = db.session.get(OutboxMessage, message_id)
        try:
            deliver(message)
        except (OSError, smtplib.SMTPException) as error:
            _record_failure(message, error, now, report)
        else:
            message.sent_at = utcnow()
            message.last_error = ""
            report.sent += 1
        db.session.commit()
    return report


def _record_failure(message: OutboxMessage, error: Exception, now: datetime, report) -> None:
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if message.attempts >= int(current_app.config["MAIL_MAX_ATTEMPTS"]):
        message.failed_at = now
        report.given_up += 1
        log.error("Gave up sending mail %s to %s: %s", message.id, message.to_address, error)
    else:
        # 1, 2, 4 … minutes, at most an hour between attempts
        message.next_attempt_at = now + timedelta(minutes=min(2 ** (message.attempts - 1), 60))
        report.failed += 1
        log.warning("Could not send mail %s (will retry): %s", message.id, error)


def build_email(message: OutboxMessage) -> EmailMessage:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(message.created_at.timestamp(), localtime=False)
    email["Message-ID"] = make_msgid(f"outbox-{message.id}")
    email.set_content(message.body)
    return email


def deliver(message: OutboxMessage) -> None:
    """Send one message by SMTP, or write it to ``MAIL_FILE_DIR`` when no server is configured.

    :raise OSError, smtplib.SMTPException: when the server cannot be reached or refuses it.
    """
    config = current_app.config
    email = build_email(message)
    if not config.get("MAIL_SERVER"):
        folder = Path(config["MAIL_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{message.created_at:%Y%m%dT%H%M%S}-{message.id}.eml"
        path.write_bytes(bytes(email))
        # A warning so that it shows in the default log: in development this is where mail is.
        current_app.logger.warning("No MAIL_SERVER set: wrote mail %s to %s", message.id, path)
        return
    port = int(config["MAIL_PORT"])
    timeout = float(config["MAIL_TIMEOUT"])
    if _flag(config.get("MAIL_USE_SSL")):
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            config["MAIL_SERVER"], port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(config["MAIL_SERVER"], port, timeout=timeout)
    with smtp:
        if _flag(config.get("MAIL_USE_TLS")):
            smtp.starttls(context=ssl.create_default_context())
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(email)


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
