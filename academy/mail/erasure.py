"""Mail to or about a person who deletes their account (called by ``academy.erasure``).

Mail to them or naming their address goes; other people's mail that names them is scrubbed in
the database; a mail file (``MAIL_FILE_DIR``) is a copy of what was sent and is deleted, not
rewritten.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, or_, select

from academy.extensions import db
from academy.mail.models import OutboxMessage
from academy.redact import mentions, name_pattern, scrub


def forget(email: str, name: str) -> None:
    """Delete queued and sent mail to ``email`` or naming it; scrub ``name`` (whole words) out
    of the rest (flushes, never commits)."""
    email = email.lower()
    db.session.execute(
        delete(OutboxMessage).where(
            or_(
                func.lower(OutboxMessage.to_address) == email,
                mentions(OutboxMessage.subject, email),
                mentions(OutboxMessage.body, email),
            )
        )
    )
    pattern = name_pattern(name)
    if pattern is None:
        return
    for message in db.session.scalars(
        select(OutboxMessage).where(
            or_(mentions(OutboxMessage.subject, name), mentions(OutboxMessage.body, name))
        )
    ):
        message.subject = scrub(message.subject, pattern, email)[:300]
        message.body = scrub(message.body, pattern, email)
    db.session.flush()


def remove_files(email: str, name: str) -> int:
    """Delete every mail file that names ``email`` or ``name`` (whole words, in any header or
    the decoded text). Returns how many went; never raises for a file that is already gone or
    cannot be read."""
    folder = current_app.config.get("MAIL_FILE_DIR")
    if not folder or not Path(folder).is_dir():
        return 0
    removed = 0
    pattern = name_pattern(name)
    for path in Path(folder).glob("*.eml"):
        if _mentions_file(path, email.lower(), pattern):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _mentions_file(path: Path, email: str, pattern: re.Pattern[str] | None) -> bool:
    try:
        raw = path.read_bytes()
    except OSError:
        return False
    message = message_from_bytes(raw, policy=policy.default)
    texts = [raw.decode("utf-8", "replace")] + [str(value) for value in message.values()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                texts.append(part.get_content())
            except (LookupError, ValueError):
                continue
    return any(email in text.lower() or (pattern and pattern.search(text)) for text in texts)
