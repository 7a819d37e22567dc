"""Deleting a learner's account, the right to erasure: one coordinator over every domain.

Each domain deletes or anonymises its own rows through its own public function; this module
decides the order, writes nothing itself but the audit log's scrubbing, and serves
``/account/delete`` (blueprint ``erasure``). :func:`erase_account` does everything that lives in
the database in the caller's transaction (flushes, never commits); :func:`remove_files` deletes
the files once that transaction has committed, so a failure part-way never leaves rows pointing
at files that are gone.

What goes and what stays:

- The ``users`` row stays, anonymised in place ("Deleted learner", an address at
  ``deleted.invalid``, a password hash nothing verifies against, profile cleared, new calendar
  token, ``deleted_at`` set), so enrolments keep pointing at it: cohorts' ``seats_taken`` and
  providers' counts of places and completions stay right, and rosters show "Deleted learner".
  (``accounts.closing``)
- Places on cohorts still to come (held, waitlisted or requested) are withdrawn, so the seat
  goes to the next learner on the waitlist; every other enrolment stays, with every free text
  the learner or a provider wrote about them cleared. (``enrolment.erasure``)
- Portfolio entries, evidence rows and files, share links go; issued credentials stay as rows
  (so a verifier learns the credential was revoked) but the signed credential, which names the
  learner, is cleared. (``portfolio.erasure``)
- Sessions, emailed links, provider memberships, failed log-ins for the address
  (``accounts.closing``), invitations to it (``providers.erasure``) and mail to or about it
  (``mail.erasure``) go.
- Audit entries keep their action; the actor becomes "Deleted user" and mentions of the
  learner's name or address in summaries and details are replaced. One ``account.deleted``
  entry records that an account was deleted, and nothing that says whose.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from academy import audit
from academy.accounts import closing
from academy.accounts.forms import DeleteAccountForm
from academy.accounts.models import User
from academy.accounts.security import log_out, signed_in_only
from academy.audit import AuditEntry
from academy.db_types import utcnow
from academy.enrolment import erasure as enrolment_erasure
from academy.extensions import db
from academy.mail import erasure as mail_erasure
from academy.portfolio import erasure as portfolio_erasure
from academy.providers import erasure as provider_erasure
from academy.redact import mentions, name_pattern, scrub
from academy.unit_of_work import DomainError, attempt

DELETED_ACTOR = portfolio_erasure.DELETED_ACTOR

bp = Blueprint("erasure", __name__)
bp.before_request(signed_in_only)  # the one page here deletes the account signed in


class ErasureRefused(DomainError):
    """The account cannot be deleted yet (the message says what to do first)."""


@dataclass
class Erasure:
    """What is left to do after the transaction commits: files to delete."""

    email: str
    name: str
    evidence_paths: list[Path] = field(default_factory=list)


def erase_account(user: User, password: str, now: datetime | None = None) -> Erasure:
    """Delete or anonymise everything about ``user`` (flushes, never commits).

    The files (evidence, mail files naming them) are deleted by :func:`remove_files` when the
    transaction commits (``init_app`` installs that), and stay if it rolls back.
    :raise WrongPassword: ``password`` is not theirs (nothing changes).
    :raise ErasureRefused: they are the only admin of an organisation (nothing changes).
    """
    closing.check_password(user, password)
    blocking = closing.sole_admin_of(user)
    if blocking:
        names = ", ".join(provider.name for provider in blocking)
        raise ErasureRefused(
            f"You are the only admin of {names}. Make a colleague an admin (or remove the "
            "organisation's other staff and ask us to close it) before you delete your account."
        )
    now = now or utcnow()
    email, name = user.email.lower(), user.name
    staff_of = [membership.provider_id for membership in user.memberships]
    erasure = Erasure(email=email, name=name)
    erasure.evidence_paths = portfolio_erasure.forget_learner(user.id, name, staff_of, now)
    enrolment_erasure.forget_learner(user, now)
    closing.forget_sign_in(user)
    provider_erasure.forget_address(email)
    mail_erasure.forget(email, name)
    _scrub_audit_log(user.id, email, name)
    closing.anonymise(user, now)
    audit.record(None, "account.deleted", "A learner deleted their account")
    db.session().info.setdefault(_PENDING, []).append(erasure)
    return erasure


def _scrub_audit_log(user_id: int, email: str, name: str) -> None:
    """The audit log (ground floor, no domain of its own) keeps its actions, not the person."""
    db.session.execute(
        update(AuditEntry).where(AuditEntry.actor_id == user_id).values(actor_name=DELETED_ACTOR)
    )
    pattern = name_pattern(name)
    mentioned = [mentions(AuditEntry.summary, email), mentions(AuditEntry.detail, email)]
    if pattern is not None:
        mentioned += [mentions(AuditEntry.summary, name), mentions(AuditEntry.detail, name)]
    for entry in db.session.scalars(select(AuditEntry).where(or_(*mentioned))):
        entry.summary = scrub(entry.summary, pattern, email)
        entry.detail = _scrub_detail(entry, pattern, email)
    db.session.flush()


def _scrub_detail(entry: AuditEntry, pattern: re.Pattern[str] | None, email: str) -> str:
    """The entry's JSON detail with the learner's name and address replaced; a message a
    provider wrote to them about their request goes entirely (it was written about them)."""
    text = scrub(entry.detail or "", pattern, email)
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
    """After the commit: delete the evidence files, and every mail file that names the old
    address or the learner's name. Returns how many files went; never raises for a file that
    is already gone or cannot be read."""
    removed = 0
    for path in erasure.evidence_paths:
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed + mail_erasure.remove_files(erasure.email, erasure.name)


_PENDING = "erasure.pending"


def _on_commit(session: Session) -> None:
    for erasure in session.info.pop(_PENDING, []):
        remove_files(erasure)


def _on_rollback(session: Session, transaction) -> None:
    session.info.pop(_PENDING, None)


def init_app(app: Flask) -> None:
    """Serve ``/account/delete`` and delete an erasure's files after its transaction commits
    (never if it rolls back)."""
    app.register_blueprint(bp)
    if not event.contains(Session, "after_commit", _on_commit):
        event.listen(Session, "after_commit", _on_commit)
        event.listen(Session, "after_soft_rollback", _on_rollback)


@bp.route("/account/delete", methods=["GET", "POST"])
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        with attempt(form):
            erase_account(current_user, form.password.data)
            log_out()
            flash(
                "Your account is deleted. Your portfolio, evidence and share links are gone, "
                "and you have been logged out.",
                "success",
            )
            return redirect(url_for("main.home"), code=303)
    data_zip = "portfolio_exports.data_zip"
    page = render_template(
        "accounts/delete.html",
        form=form,
        problem=form.form_errors[0] if form.form_errors else None,
        blocking=closing.sole_admin_of(current_user),
        data_zip_url=(url_for(data_zip) if data_zip in current_app.view_functions else None),
    )
    return page, 422 if (form.errors or form.form_errors) else 200
