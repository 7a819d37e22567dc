"""Bulk import from the provider screens: check a CSV upload, show the report, then apply it.

The web import is the command-line import (``academy.imports.course_csv``) with two rules of
its own: a file can never publish anything (every new or changed course goes to the curators'
queue, a published one staying published as after an edit), and it is all or nothing (any bad
row imports nothing). Between the report and the confirmation the uploaded bytes wait in the
instance folder under a random name; the confirmation checks them again, in the transaction
that writes them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import update

from academy import audit
from academy.accounts.models import User
from academy.catalogue.models import Course
from academy.db_types import utcnow
from academy.extensions import db
from academy.imports.course_csv import CourseImport, apply_course_import, check_course_csv
from academy.providers.models import Provider
from academy.providers.services import require_staff

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: how long an uploaded file waits for its confirmation
KEEP_SECONDS = 2 * 60 * 60
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass
class Checked:
    plan: CourseImport
    token: str | None  # where the bytes wait; None when there is nothing to confirm


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path(provider: Provider, token: str) -> Path:
    digest = hashlib.sha256(token.encode()).hexdigest()[:32]
    return _folder() / f"import-{provider.id}-{digest}.csv"


def _forget_old() -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in _folder().glob("import-*.csv"):
        if path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def for_review(plan: CourseImport) -> CourseImport:
    """Drop the file's own status column: the import never sets a status (see ``apply``).

    The counts of new, changed and unchanged courses are recounted without it.
    """
    report = plan.report
    report.new = report.changed = report.unchanged = 0
    for row in plan.rows:
        row.values.pop("status", None)
        row.changes.pop("status", None)
        if row.course is None:
            row.values["status"] = "submitted"
        setattr(report, row.outcome, getattr(report, row.outcome) + 1)
    return plan


def check_upload(user: User, provider: Provider, data: bytes) -> Checked:
    """Validate the bytes and keep them for the confirmation when they can be imported.

    :raise NotMember: not the provider's staff.
    """
    require_staff(user, provider)
    plan = for_review(check_course_csv(data, provider))
    if not plan.report.ok or not (plan.report.new or plan.report.changed):
        return Checked(plan, None)  # problems, or nothing would change: nothing to confirm
    _forget_old()
    token = secrets.token_urlsafe(24)
    _path(provider, token).write_bytes(data)
    return Checked(plan, token)


def apply_upload(user: User, provider: Provider, token: str) -> CourseImport | None:
    """Check the kept file again and write it (flushes; the view commits once, so it is all or
    nothing). New and changed courses join the review queue. Returns ``None`` when the file is
    gone (expired, already imported, or a token of another provider).
    """
    require_staff(user, provider)
    if not _TOKEN.match(token or ""):
        return None
    path = _path(provider, token)
    if not path.exists():
        return None
    data = path.read_bytes()
    plan = for_review(check_course_csv(data, provider))
    report = apply_course_import(plan)
    if report.applied:
        touched = [row.course_id for row in plan.rows if row.outcome != "unchanged"]
        _queue_for_review(touched)
        audit.record(
            user,
            "import.applied",
            f"Imported a file: {report.new} new, {report.changed} changed,"
            f" {report.unchanged} unchanged",
            provider=provider,
            detail={
                "new": report.new,
                "changed": report.changed,
                "unchanged": report.unchanged,
                "encoding": report.encoding,
            },
        )
        path.unlink(missing_ok=True)
    return plan


def _queue_for_review(course_ids: list[int]) -> None:
    if not course_ids:
        return
    now = utcnow()
    for start in range(0, len(course_ids), 500):
        chunk = course_ids[start : start + 500]
        db.session.execute(
            update(Course)
            .where(Course.id.in_(chunk), Course.status.in_(("draft", "rejected")))
            .values(status="submitted")
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(Course)
            .where(Course.id.in_(chunk), Course.status != "archived")
            .values(review_requested_at=now)
            .execution_options(synchronize_session=False)
        )
