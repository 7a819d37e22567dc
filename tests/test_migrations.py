"""Migrations build the schema the models describe, from an empty database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect

from academy.extensions import db
from tests.conftest import reset_schema


def test_empty_database_migrates_to_head_without_drift(ctx):
    reset_schema()
    assert inspect(db.engine).get_table_names() == []
    upgrade()
    with db.engine.connect() as connection:
        migration = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        assert migration.get_current_revision() is not None
        differences = compare_metadata(migration, db.metadata)
    assert differences == []
    assert "courses" in inspect(db.engine).get_table_names()
