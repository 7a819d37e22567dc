"""Reference data stands alone: `flask taxonomy load` installs it on a migrated database with
no demonstration data, and a real 975-row catalogue then imports; missing seed files say so."""

from __future__ import annotations

import shutil
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select

from academy.catalogue.models import Course
from academy.extensions import db
from academy.providers.models import Provider
from academy.taxonomy.models import Sector, Step
from tests.conftest import reset_schema
from tests.test_import_edx import edx, edx_reference  # noqa: F401  (the fixture)


def test_a_fresh_install_imports_the_public_catalogue_without_demonstration_data(
    app,
    runner,
    edx,  # noqa: F811
):
    source, data = edx
    path = Path(app.instance_path).parent / "edx-import.csv"
    with app.app_context():
        reset_schema()
        upgrade()  # exactly what `flask db upgrade` does
        assert db.session.scalar(select(func.count(Step.id))) == 0
    result = runner.invoke(args=["taxonomy", "load"])
    assert result.exit_code == 0, result.output
    assert "Installed 5 steps" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Provider.id))) == 0  # no demonstration data
        assert db.session.scalar(select(func.count(Course.id))) == 0
    try:
        path.write_bytes(data)
        result = runner.invoke(
            args=["courses", "import", str(path), "--provider", "edx", "--create-provider", "edX"]
        )
    finally:
        path.unlink(missing_ok=True)
    assert result.exit_code == 0, result.output
    assert "Imported" in result.output
    with app.app_context():
        count = db.session.scalar(select(func.count(Course.id)))
    assert len(source) == 975
    assert count == len({edx_reference(row) for row in source})
    # a second load adds nothing and keeps what curators changed
    again = runner.invoke(args=["taxonomy", "load"])
    assert again.exit_code == 0 and "already installed" in again.output


def test_loading_keeps_a_curators_rename(app, runner, taxonomy):
    sector = taxonomy["sectors"]["education"]
    sector.name = "Education and schools"
    db.session.commit()
    assert runner.invoke(args=["taxonomy", "load"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Sector, sector.id).name == "Education and schools"


def test_missing_seed_files_give_a_clear_message(app, runner, tmp_path):
    seed = Path(app.config["SEED_DIR"])
    partial = tmp_path / "seed"
    partial.mkdir()
    shutil.copy(seed / "taxonomy.yaml", partial / "taxonomy.yaml")
    result = runner.invoke(args=["seed", "--dir", str(partial)])
    assert result.exit_code == 1
    assert "providers.yaml is missing" in result.output
    assert "Traceback" not in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(args=["taxonomy", "load", "--dir", str(empty)])
    assert result.exit_code == 1 and "taxonomy.yaml is missing" in result.output
