"""The blueprint the download and credential screens add their routes to, and the download
response they share."""

from __future__ import annotations

from flask import Blueprint, Response

from academy.db_types import utcnow
from academy.formatting import local_time

# Rules are written in full: the data zip lives under /account, the rest under /portfolio.
bp = Blueprint("portfolio_exports", __name__)


def download(body: bytes | str, mimetype: str, name: str) -> Response:
    """``body`` as an attachment called ``name`` that no cache keeps and no browser sniffs."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def stamp() -> str:
    """Today's date (UK time) for file names, like ``2026-03-14``."""
    return f"{local_time(utcnow()):%Y-%m-%d}"
