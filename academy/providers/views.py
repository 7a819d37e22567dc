"""Public provider pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("providers", __name__)
