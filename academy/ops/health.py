"""``GET /healthz``: may a load balancer send this server traffic?

200 when the database answers and this server's search index is present and close behind the
outbox, 503 otherwise. The body holds states and counts only, never personal data, and the route is
outside every rate limit, so a balancer polling it is never refused.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError

from academy.db_types import utcnow
from academy.extensions import db
from academy.search import get_store
from academy.search.models import SearchOutbox

bp = Blueprint("ops", __name__)
log = logging.getLogger(__name__)


def index_lag() -> tuple[str, int | None, float | None]:
    """This server's index: its state ("ok" or "missing"), the outbox entries it has not applied
    and the age in seconds of the oldest of them (0 when none wait)."""
    store = get_store()
    generation = store.current_generation()
    if generation is None:
        return "missing", None, None
    state = store.read_state(generation)
    condition = SearchOutbox.id > state.last_id
    gaps = [int(gap) for gap in state.gaps]
    if gaps:
        condition = or_(condition, SearchOutbox.id.in_(gaps))
    waiting, oldest = db.session.execute(
        select(func.count(SearchOutbox.id), func.min(SearchOutbox.created_at)).where(condition)
    ).one()
    if not waiting or oldest is None:
        return "ok", 0, 0.0
    # the aggregate bypasses the column type: SQLite hands back text, PostgreSQL a datetime
    if isinstance(oldest, str):
        from datetime import UTC, datetime

        oldest = datetime.fromisoformat(oldest).replace(tzinfo=UTC)
    return "ok", int(waiting), max(0.0, round((utcnow() - oldest).total_seconds(), 1))


@bp.get("/healthz")
def healthz():
    body: dict[str, object] = {"database": "ok"}
    healthy = True
    try:
        db.session.execute(text("SELECT 1"))
        index, lag, lag_seconds = index_lag()
    except SQLAlchemyError:  # the request's unit of work rolls back (a 503 writes nothing)
        log.warning("health check: the database did not answer")
        body.update(database="unavailable", index="unknown", index_lag=None)
        healthy = False
    else:
        body.update(index=index, index_lag=lag, index_lag_seconds=lag_seconds)
        if index != "ok":
            healthy = False
        elif lag > int(current_app.config["HEALTH_MAX_INDEX_LAG"]) or lag_seconds > float(
            current_app.config["HEALTH_MAX_INDEX_LAG_SECONDS"]
        ):
            body["index"] = "behind"
            healthy = False
    body["status"] = "ok" if healthy else "unavailable"
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
