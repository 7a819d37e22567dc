"""The list of the learner's entries (``/portfolio``), filtered by year and kind."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user, login_required

from academy.portfolio.entries import services as entry_service
from academy.portfolio.entries.common import bp
from academy.portfolio.models import METHODS


@bp.get("")
@login_required
def entries():
    """One page of the learner's entries; :raise 404: a page past the last."""
    filters = entry_service.parse_filters(request.args)
    try:
        page = entry_service.list_entries(current_user, filters)
    except entry_service.PageOutOfRange:
        abort(404)
    return render_template(
        "portfolio/entries/entries.html",
        page=page,
        filters=filters,
        kinds=entry_service.KINDS,
        methods=METHODS,
    )
