"""Where evidence files live on disk and how they are sent back.

Files sit under ``EVIDENCE_DIR`` (``instance/evidence`` by default, never under ``static/``) by
a random name that says nothing about the learner or the file. Whoever serves a file must have
checked the reader may see it (the owner, or a live share link that includes the entry).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from flask import Response, current_app, send_file

from academy.portfolio.models import EvidenceFile


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
