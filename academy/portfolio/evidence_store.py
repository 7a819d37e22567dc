"""Where evidence files live on disk and how they are sent back.

Files sit under ``EVIDENCE_DIR`` (``instance/evidence`` by default, never under ``static/``) by
a random name that says nothing about the learner or the file. Whoever serves a file must have
checked the reader may see it (the owner, or a live share link that includes the entry).

Files and rows must agree although only the request's one commit (``academy.unit_of_work``)
decides whether a row exists: a service that writes a file calls :func:`remove_unless_committed`
and one that deletes a row calls :func:`remove_after_commit`; listeners on the session then
remove the new file when the transaction rolls back (or the commit fails) and the old file once
the deletion is committed.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask, Response, current_app, send_file
from sqlalchemy import event

from academy.extensions import db
from academy.portfolio.models import EvidenceFile

#: ``session.info`` keys: files to remove once the transaction commits / unless it commits
_AFTER_COMMIT = "academy.portfolio.remove_after_commit"
_UNLESS_COMMITTED = "academy.portfolio.remove_unless_committed"


def evidence_dir() -> Path:
    """The evidence directory (created, mode 0700, on first use)."""
    path = Path(current_app.config["EVIDENCE_DIR"])
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def new_stored_name() -> str:
    """A fresh random file name (32 hex characters, no extension)."""
    return secrets.token_hex(16)


def path_for(evidence: EvidenceFile) -> Path:
    return evidence_dir() / evidence.stored_name


def remove_file(evidence: EvidenceFile) -> None:
    """Delete the file behind ``evidence`` (no error if it is already gone)."""
    path_for(evidence).unlink(missing_ok=True)


def send_evidence(evidence: EvidenceFile) -> Response:
    """The file as a download with headers that stop a browser treating it as a page.

    The stored content type (checked from the bytes at upload) is sent as is, with ``nosniff``,
    a sandboxing Content-Security-Policy and ``attachment``, so even a file that slipped through
    could not run script in the site's origin.
    """
    response = send_file(
        path_for(evidence),
        mimetype=evidence.content_type,
        as_attachment=True,
        download_name=evidence.filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def remove_after_commit(stored_names: list[str]) -> None:
    """Remove these files once the current transaction commits (their rows are deleted in it);
    if it rolls back they stay, as their rows do."""
    folder = evidence_dir()
    db.session.info.setdefault(_AFTER_COMMIT, []).extend(folder / n for n in stored_names)


def remove_unless_committed(evidence: EvidenceFile) -> None:
    """Remove the file just written for ``evidence`` if its row is never committed."""
    db.session.info.setdefault(_UNLESS_COMMITTED, []).append(path_for(evidence))


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


@event.listens_for(db.session, "after_commit")
def _committed(session) -> None:
    session.info.pop(_UNLESS_COMMITTED, None)
    _unlink(session.info.pop(_AFTER_COMMIT, []))


@event.listens_for(db.session, "after_soft_rollback")
def _rolled_back(session, previous_transaction) -> None:
    if previous_transaction.parent is not None:
        return  # a savepoint: the outer transaction may still commit
    session.info.pop(_AFTER_COMMIT, None)
    _unlink(session.info.pop(_UNLESS_COMMITTED, []))


def _request_ended(error: BaseException | None) -> None:
    """A request whose commit raised neither committed nor rolled back: its new files go."""
    if db.session.registry.has():
        db.session.info.pop(_AFTER_COMMIT, None)
        _unlink(db.session.info.pop(_UNLESS_COMMITTED, []))


def init_app(app: Flask) -> None:
    """Keep files and rows in step at the end of every request."""
    app.teardown_request(_request_ended)
