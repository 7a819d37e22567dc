"""`flask seed` loads the demonstration catalogue; running it twice changes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from academy.catalogue.models import Cohort, CohortSession, Course, Programme, course_sectors
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers.models import Provider
from academy.taxonomy.models import TERM_MODELS, Sector, Step


def snapshot() -> dict[str, list]:
    """Every row of every table, for an exact before/after comparison."""
    return {
        table.name: sorted(
            (tuple(str(v) for v in row) for row in db.session.execute(select(table))), key=str
        )
        for table in db.metadata.sorted_tables
    }


def test_seed_twice_changes_nothing(app, runner):
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "Seeded" in result.output
    with app.app_context():
        before = snapshot()
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "Nothing to add" in result.output
    with app.app_context():
        assert snapshot() == before


def test_seed_if_empty_skips_a_catalogue_that_has_courses(app, runner, make_course):
    make_course("Already here")
    result = runner.invoke(args=["seed", "--if-empty"])
    assert "not seeding" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Course.id))) == 1


def test_seeded_catalogue_covers_every_step_and_sector(app, runner, client):
    assert runner.invoke(args=["seed"]).exit_code == 0
    with app.app_context():
        published = select(Course).where(Course.status == "published")
        courses = db.session.scalars(published).all()
        assert len(courses) >= 60
        assert db.session.scalar(select(func.count(Provider.id))) >= 15
        providers_with_courses = {c.provider_id for c in courses}
        assert len(providers_with_courses) >= 15
        for step in db.session.scalars(select(Step)):
            assert any(c.step_id == step.id for c in courses), step.name
        for sector in db.session.scalars(select(Sector)):
            tagged = db.session.scalar(
                select(func.count())
                .select_from(course_sectors)
                .join(Course, Course.id == course_sectors.c.course_id)
                .where(course_sectors.c.sector_id == sector.id, Course.status == "published")
            )
            assert tagged >= 1, sector.name
        for model in TERM_MODELS.values():
            assert db.session.scalar(select(func.count(model.id))) > 0
        # some hidden courses exist, to show they never appear
        assert (
            db.session.scalar(select(func.count(Course.id)).where(Course.status != "published"))
            >= 1
        )
        assert db.session.scalar(select(func.count(Programme.id))) >= 4
        # dates are computed from today: there are upcoming cohorts within a few months
        soon = db.session.scalar(
            select(func.count(CohortSession.id)).where(
                CohortSession.starts_at > utcnow(),
                CohortSession.starts_at < utcnow() + timedelta(weeks=12),
            )
        )
        assert soon >= 10
        assert db.session.scalar(select(func.count(Cohort.id))) >= 30
    html = client.get("/courses?per_page=50").get_data(as_text=True)
    count = int(html.split('id="results-heading" class="results-count">')[1].split()[0])
    assert count == len(courses)


def test_seeded_prerequisite_chains_exist(app, runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    with app.app_context():
        courses = db.session.scalars(select(Course)).all()

        def chain_depth(course: Course) -> int:
            return 1 + max((chain_depth(p) for p in course.prerequisites), default=0)

        assert max(chain_depth(c) for c in courses) >= 3  # awareness -> BSc -> MSc
        mbt = [c for c in courses if "MBT" in c.title or "Mentalization" in c.title]
        assert any(p in mbt for c in mbt for p in c.prerequisites)
        for course in courses:
            for required in course.prerequisites:
                assert required.step.number <= course.step.number, course.title


def test_seed_reports_bad_seed_files_clearly(app, runner, tmp_path):
    seed_dir = Path(app.config["SEED_DIR"])
    (tmp_path / "courses").mkdir()
    (tmp_path / "taxonomy.yaml").write_text((seed_dir / "taxonomy.yaml").read_text())
    (tmp_path / "providers.yaml").write_text("- {slug: p, name: P}\n")
    (tmp_path / "programmes.yaml").write_text("[]\n")
    (tmp_path / "courses" / "p.yaml").write_text(
        "provider: p\ncourses:\n  - {reference: A, title: A, step: 1, sectors: [nowhere]}\n"
    )
    result = runner.invoke(args=["seed", "--dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "unknown sectors slug 'nowhere'" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Provider.id))) == 0
