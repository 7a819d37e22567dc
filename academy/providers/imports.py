"""Bulk import from the provider screens: check a CSV upload, show the report, then apply it.

The web import is the command-line import (``academy.imports.course_csv``), with the same rules:
nothing is published by a file, a published course's changes wait for a curator as its pending
edit, an archived course is never changed, the status column asks for what the course's page
allows. A file with bad rows imports nothing unless the provider chooses to import only the good
rows. Between the report and the confirmation the uploaded bytes wait in the instance folder
under a random name; the confirmation checks them again, in the transaction that writes them.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from academy import audit
from academy.accounts.models import User
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


def check_upload(
    user: User, provider: Provider, data: bytes, *, skip_bad_rows: bool = False
) -> Checked:
    """Validate the bytes and keep them for the confirmation when they can be imported (with
    problems, only when ``skip_bad_rows``: the good rows are then imported alone).

    :raise NotMember: not the provider's staff.
    """
    require_staff(user, provider)
    plan = check_course_csv(data, provider)
    report = plan.report
    importable = plan.readable and (report.ok or skip_bad_rows)
    if not importable or not (report.new or report.changed):
        return Checked(plan, None)  # problems, or nothing would change: nothing to confirm
    _forget_old()
    token = secrets.token_urlsafe(24)
    _path(provider, token).write_bytes(data)
    return Checked(plan, token)


def apply_upload(
    user: User, provider: Provider, token: str, *, skip_bad_rows: bool = False
) -> CourseImport | None:
    """Check the kept file again and write it (flushes; the request commits once, so it is all
    or nothing). Returns ``None`` when the file is gone (expired, already imported, or a token
    of another provider).
    """
    require_staff(user, provider)
    if not _TOKEN.match(token or ""):
        return None
    path = _path(provider, token)
    if not path.exists():
        return None
    data = path.read_bytes()
    plan = check_course_csv(data, provider)
    report = apply_course_import(plan, skip_bad_rows=skip_bad_rows)
    if report.applied:
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
                "skipped": report.skipped,
                "bad_rows": report.skipped_rows,
                "encoding": report.encoding,
            },
        )
        path.unlink(missing_ok=True)
    return plan
