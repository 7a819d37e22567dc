"""``/healthz``: 200 with counts when the database answers and the index keeps up, 503 otherwise,
and never a word of personal data."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from academy import create_app
from academy.db_types import utcnow
from academy.extensions import db
from academy.search import get_store, indexer
from academy.search.models import SearchOutbox


def synced(app):
    with app.app_context():
        indexer.sync(get_store(), db.engine)


def test_healthy_when_the_database_answers_and_the_index_is_current(app, client, make_user):
    make_user(email="private.person@example.org", name="Private Person")
    synced(app)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": "ok",
        "index": "ok",
        "index_lag": 0,
        "index_lag_seconds": 0.0,
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "private" not in response.get_data(as_text=True).lower()


def test_not_ready_before_the_index_exists(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["index"] == "missing"


def test_reports_the_lag_and_fails_past_the_threshold(app, client, make_course):
    synced(app)
    make_course()
    make_course()  # two courses committed; nothing has applied them to the index
    app.config["HEALTH_MAX_INDEX_LAG"] = 5
    body = client.get("/healthz").get_json()
    assert body["index_lag"] >= 2 and body["status"] == "ok"
    app.config["HEALTH_MAX_INDEX_LAG"] = 1
    behind = client.get("/healthz")
    assert behind.status_code == 503 and behind.get_json()["index"] == "behind"
    synced(app)
    assert client.get("/healthz").status_code == 200


def test_an_old_unapplied_entry_fails_the_check_by_age(app, client, make_course):
    synced(app)
    make_course()
    with app.app_context():
        db.session.execute(update(SearchOutbox).values(created_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
    body = client.get("/healthz").get_json()
    assert body["index"] == "behind" and body["index_lag_seconds"] >= 300


def test_a_database_that_does_not_answer_gives_503(tmp_path):
    app = create_app(
        {
            "DATABASE_URL": "postgresql://nobody:nothing@127.0.0.1:1/nowhere",  # refused at once
            "SECRET_KEY": "x",
            "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            "SEARCH_SYNC": "off",
            "REQUEST_LOG": False,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "unavailable",
        "index": "unknown",
        "index_lag": None,
    }
