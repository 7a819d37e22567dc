"""``GET /search-help``: how to write a search, in a few lines a learner can use at once."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("search", __name__)


@bp.get("/search-help", endpoint="help")
def search_help():
    return render_template("catalogue/search_help.html")
