"""Deleting a learner's account: the right to erasure.

``erase_account`` does everything that lives in the database in the caller's transaction (it
flushes, never commits); ``remove_files`` deletes the files once that transaction has
committed, so a failure part-way never leaves rows pointing at files that are gone.

What goes and what stays:

- The ``users`` row stays, anonymised in place ("Deleted learner", an address at
  ``deleted.invalid``, a password hash nothing verifies against, profile cleared, new calendar
  token, ``deleted_at`` set), so enrolments keep pointing at it: cohorts' ``seats_taken`` and
  providers' counts of places and completions stay right, and rosters show "Deleted learner".
- Places on cohorts still to come (held, waitlisted or requested) are withdrawn, so the seat
  goes to the next learner on the waitlist; every other enrolment stays, with every free text
  the learner or a provider wrote about them cleared.
- Portfolio entries, evidence rows and files, share links, sessions, reset links, provider
  memberships, failed log-ins for the address, invitations to it and mail to or about it go.
- Issued credentials stay as rows (so a verifier learns the credential was revoked) but the
  signed credential, which names the learner, is cleared.
- Audit entries keep their action; the actor becomes "Deleted user" and mentions of the
  learner's name or address in summaries and details are replaced. One ``account.deleted``
  entry records that an account was deleted, and nothing that says whose.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from pathlib import Path

from flask import current_app
from sqlalchemy import ColumnElement, delete, func, or_, select, update

from academy import audit
from academy.accounts.models import (
    AuthSession,
    LoginAttempt,
    PasswordReset,
    ProviderMembership,
    User,
)
from academy.accounts.passwords import verify_password
from academy.accounts.services import AccountError, WrongPassword
from academy.audit import AuditEntry
from academy.db_types import utcnow
from academy.enrolment import services as enrolment_services
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.mail.models import OutboxMessage
from academy.mail.outbox import DELETED_ACCOUNT_DOMAIN
from academy.portfolio.evidence_store import path_for
from academy.portfolio.models import (
    EvidenceFile,
    IssuedCredential,
    LearningRecordEntry,
    ShareLink,
    share_link_entries,
)
from academy.providers.models import Provider, ProviderInvitation

DELETED_NAME = "Deleted learner"
DELETED_ACTOR = "Deleted user"
DELETED_ADDRESS = "a deleted address"
REVOCATION_REASON = "account deleted"
#: no Argon2 hash starts with "!", so nothing ever verifies against this
UNUSABLE_PASSWORD = "!deleted"  # nosec B105  # not a password: a hash nothing matches


class ErasureRefused(AccountError):
    """The account cannot be deleted yet (the message says what to do first)."""


@dataclass
class Erasure:
    """What is left to do after the transaction commits: files to delete."""

    email: str
    name: str
    evidence_paths: list[Path] = field(default_factory=list)


def sole_admin_of(user: User) -> list[Provider]:
    """Organisations of which ``user`` is the only admin (they must hand over first)."""
    admins = (
        select(ProviderMembership.provider_id, func.count().label("admins"))
        .where(ProviderMembership.is_admin.is_(True))
        .group_by(ProviderMembership.provider_id)
        .subquery()
    )
    return list(
        db.session.scalars(
            select(Provider)
            .join(ProviderMembership, ProviderMembership.provider_id == Provider.id)
            .join(admins, admins.c.provider_id == Provider.id)
            .where(
                ProviderMembership.user_id == user.id,
                ProviderMembership.is_admin.is_(True),
                admins.c.admins <= 1,
            )
            .order_by(Provider.name)
        )
    )


def _mentions(column, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text``, ignoring case (SQLite's ``lower`` folds ASCII only, so the
    text is also looked for as typed)."""
    return or_(
        column.contains(text, autoescape=True),
        func.lower(column).contains(text.lower(), autoescape=True),
    )


def _name_pattern(name: str) -> re.Pattern[str]:
    # whole words only: erasing "Sam Lee" must not touch "Sam Leeson"
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def _scrub(text: str, name_pattern: re.Pattern[str] | None, email: str) -> str:
    text = re.sub(re.escape(email), DELETED_ADDRESS, text, flags=re.IGNORECASE)
    if name_pattern is not None:
        text = name_pattern.sub(DELETED_NAME, text)
    return text


def erase_account(user: User, password: str, now: datetime | None = None) -> Erasure:
    """Delete or anonymise everything about ``user`` (flushes, never commits).

    The caller commits, logs the person out, then calls :func:`remove_files`.
    :raise WrongPassword: ``password`` is not theirs (nothing changes).
    :raise ErasureRefused: they are the only admin of an organisation (nothing changes).
    """
    if not verify_password(user.password_hash, password or ""):
        raise WrongPassword("Your password is not right, so nothing has been deleted.")
    blocking = sole_admin_of(user)
    if blocking:
        names = ", ".join(provider.name for provider in blocking)
        raise ErasureRefused(
            f"You are the only admin of {names}. Make a colleague an admin (or remove the "
            "organisation's other staff and ask us to close it) before you delete your account."
        )
    now = now or utcnow()
    email, name = user.email.lower(), user.name
    name_pattern = _name_pattern(name) if name.strip() else None
    staff_of = [membership.provider_id for membership in user.memberships]

    # --- the portfolio: evidence files (after commit), share links, credentials, entries
    own_entries = select(LearningRecordEntry.id).where(LearningRecordEntry.user_id == user.id)
    evidence = db.session.scalars(
        select(EvidenceFile).where(
            or_(EvidenceFile.user_id == user.id, EvidenceFile.entry_id.in_(own_entries))
        )
    ).all()
    erasure = Erasure(email=email, name=name, evidence_paths=[path_for(file) for file in evidence])
    own_links = select(ShareLink.id).where(ShareLink.user_id == user.id)
    db.session.execute(
        delete(share_link_entries).where(
            or_(
                share_link_entries.c.share_link_id.in_(own_links),
                share_link_entries.c.entry_id.in_(own_entries),
            )
        )
    )
    db.session.execute(delete(ShareLink).where(ShareLink.user_id == user.id))
    db.session.execute(
        update(IssuedCredential)
        .where(or_(IssuedCredential.user_id == user.id, IssuedCredential.entry_id.in_(own_entries)))
        .values(
            revoked_at=func.coalesce(IssuedCredential.revoked_at, now),
            revocation_reason=REVOCATION_REASON,
            signed="",
            entry_id=None,
        )
    )
    db.session.execute(
        delete(EvidenceFile).where(
            or_(EvidenceFile.user_id == user.id, EvidenceFile.entry_id.in_(own_entries))
        )
    )
    db.session.execute(delete(LearningRecordEntry).where(LearningRecordEntry.user_id == user.id))
    # completions they confirmed or corrected as provider staff keep standing, without the name
    db.session.execute(
        update(LearningRecordEntry)
        .where(LearningRecordEntry.confirmed_by_id == user.id)
        .values(confirmed_by_name=DELETED_ACTOR)
    )
    if staff_of:
        db.session.execute(
            update(LearningRecordEntry)
            .where(
                LearningRecordEntry.provider_id.in_(staff_of),
                LearningRecordEntry.corrected_by_name == name,
            )
            .values(corrected_by_name=DELETED_ACTOR)
        )

    # --- places on cohorts still to come are given up (the waitlist moves up); the rest stay
    # (providers' counts), and their free text goes
    enrolment_services.release_places(user, now)
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.user_id == user.id)
        .values(access_needs="", request_reason="", withdrawal_reason="", decision_message="")
    )

    # --- sign-in and membership
    db.session.execute(delete(AuthSession).where(AuthSession.user_id == user.id))
    db.session.execute(delete(PasswordReset).where(PasswordReset.user_id == user.id))
    db.session.execute(delete(LoginAttempt).where(func.lower(LoginAttempt.email) == email))
    db.session.execute(
        delete(ProviderInvitation).where(func.lower(ProviderInvitation.email) == email)
    )
    db.session.execute(
        update(Provider)
        .where(func.lower(Provider.contact_email) == email)
        .values(contact_email=None)
    )
    for membership in list(user.memberships):
        user.memberships.remove(membership)

    # --- mail: to them or naming their address goes; others' mail that names them is scrubbed
    db.session.execute(
        delete(OutboxMessage).where(
            or_(
                func.lower(OutboxMessage.to_address) == email,
                _mentions(OutboxMessage.subject, email),
                _mentions(OutboxMessage.body, email),
            )
        )
    )
    if name_pattern is not None:
        for message in db.session.scalars(
            select(OutboxMessage).where(
                or_(_mentions(OutboxMessage.subject, name), _mentions(OutboxMessage.body, name))
            )
        ):
            message.subject = _scrub(message.subject, name_pattern, email)[:300]
            message.body = _scrub(message.body, name_pattern, email)

    # --- the audit log keeps its actions, not the person
    db.session.execute(
        update(AuditEntry).where(AuditEntry.actor_id == user.id).values(actor_name=DELETED_ACTOR)
    )
    mentioned = [_mentions(AuditEntry.summary, email), _mentions(AuditEntry.detail, email)]
    if name_pattern is not None:
        mentioned += [_mentions(AuditEntry.summary, name), _mentions(AuditEntry.detail, name)]
    for entry in db.session.scalars(select(AuditEntry).where(or_(*mentioned))):
        entry.summary = _scrub(entry.summary, name_pattern, email)
        entry.detail = _scrub_detail(entry, name_pattern, email)

    # --- the account itself, anonymised in place
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
    audit.record(None, "account.deleted", "A learner deleted their account")
    return erasure


def _scrub_detail(entry: AuditEntry, name_pattern: re.Pattern[str] | None, email: str) -> str:
    """The entry's JSON detail with the learner's name and address replaced; a message a
    provider wrote to them about their request goes entirely (it was written about them)."""
    text = _scrub(entry.detail or "", name_pattern, email)
    if entry.action.startswith("request.") and text:
        try:
            detail = json.loads(text)
        except ValueError:
            return text
        if isinstance(detail, dict) and detail.get("message"):
            detail["message"] = ""
            text = json.dumps(detail, ensure_ascii=False, default=str)
    return text


def remove_files(erasure: Erasure) -> int:
    """After the commit: delete the evidence files, and every mail file (``MAIL_FILE_DIR``)
    that names the old address or the learner's name (whole words, in any header or the
    decoded text; the database copy of someone else's message was scrubbed instead, but a file
    is a copy of what was sent and is not rewritten). Returns how many files went; never
    raises for a file that is already gone or cannot be read."""
    removed = 0
    for path in erasure.evidence_paths:
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    folder = current_app.config.get("MAIL_FILE_DIR")
    if folder and Path(folder).is_dir():
        name_pattern = _name_pattern(erasure.name) if erasure.name.strip() else None
        for path in Path(folder).glob("*.eml"):
            if _mail_mentions(path, erasure.email, name_pattern):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _mail_mentions(path: Path, email: str, name_pattern: re.Pattern[str] | None) -> bool:
    """Whether the message in ``path`` names ``email`` or matches ``name_pattern`` in any
    header or its decoded text."""
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
    for text in texts:
        if email in text.lower() or (name_pattern is not None and name_pattern.search(text)):
            return True
    return False
