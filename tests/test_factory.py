"""The app factory reads configuration and does no I/O."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

from academy import create_app
from academy.config import from_environment, load_or_create_secret_key, normalise_database_url


def test_factory_opens_no_database_connection(tmp_path, monkeypatch):
    connections = []

    def on_connect(dbapi_connection, record):
        connections.append(dbapi_connection)

    event.listen(Engine, "connect", on_connect)
    try:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                "SECRET_KEY": "x",
                "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            }
        )
    finally:
        event.remove(Engine, "connect", on_connect)
    assert app.url_map is not None
    assert connections == []
    assert list(tmp_path.iterdir()) == []  # no database file, no index directory


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_or_create_secret_key(str(tmp_path / "instance"))
    second = load_or_create_secret_key(str(tmp_path / "instance"))
    key_file = tmp_path / "instance" / "secret_key"
    assert len(first) == 64 and first == second
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_configured_secret_key_wins_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["SECRET_KEY"] == "from-the-environment"


def test_environment_settings_are_read():
    found = from_environment(
        {"DATABASE_URL": "sqlite://", "ACADEMY_COURSES_PER_PAGE": "30", "HOME": "/root"}
    )
    assert found == {"DATABASE_URL": "sqlite://", "COURSES_PER_PAGE": "30"}


def test_postgres_urls_use_psycopg():
    assert normalise_database_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"
