"""Bulk import of courses from the CSV template: validation, atomicity, re-import and the CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from academy import PROJECT_ROOT
from academy.catalogue.models import Course, Programme, ProgrammeModule
from academy.extensions import db
from academy.imports.course_csv import (
    ALL_COLUMNS,
    Problem,
    apply_course_import,
    check_course_csv,
    import_course_csv,
)
from academy.providers.models import Provider
from academy.text import match_key

BASE = {"reference": "KUF-AWARE-1D", "title": "KUF Awareness (1-day)", "step": "1"}


def make_csv(
    rows: list[dict[str, str]],
    columns: list[str] | None = None,
    *,
    newline: str = "\n",
) -> bytes:
    """The bytes of a CSV file with ``columns`` (default: every key used, in order of use)."""
    columns = columns or list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue().encode("utf-8")


def numbered(count: int, **cells: str) -> list[dict[str, str]]:
    return [
        {"reference": f"C-{n:05d}", "title": f"Course number {n}", "step": "1", **cells}
        for n in range(1, count + 1)
    ]


@pytest.fixture
def provider(taxonomy, make_provider) -> Provider:
    return make_provider(name="KUF Delivery Partnership", slug="kuf-partnership")


def courses_of(provider: Provider) -> dict[str, Course]:
    db.session.expire_all()
    return {
        course.reference: course
        for course in db.session.scalars(select(Course).where(Course.provider_id == provider.id))
    }


def course_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Course))


def slugs(terms) -> list[str]:
    return sorted(term.slug for term in terms)


def only_problem(report) -> Problem:
    assert len(report.problems) == 1, [str(p) for p in report.problems]
    return report.problems[0]


# --- A good file ---------------------------------------------------------------------------


def test_good_file_imports_every_field(provider):
    rows = [
        {
            "reference": "  KUF-AWARE-1D ",
            "title": "KUF Awareness: Working with Personality Disorder (1-day)",
            "summary": "A one-day session.",
            "description": "First paragraph.\n\nSecond paragraph.",
            "step": "awareness",
            "sectors": "Health and Social Care; criminal-justice",
            "professions": "NURSE;  social-worker ;nurse",
            "principles": "Safety and confidence",
            "delivery_mode": "In person",
            "region": "north-west",
            "duration_hours": "6.5",
            "cpd_hours": "7",
            "cost": "funded",
            "url": "https://kuf-partnership.example.org/awareness/one-day",
            "who_its_for": "Frontline staff.",
            "entry_requirements": "None.",
            "where_next": "KUF Awareness (3-day).",
            "lived_experience_codelivery": "Yes",
            "programme": "KUF Pathway",
            "status": "published",
            "credits": "",
            "credit_level": "",
        },
        {
            "reference": "KUF-BSC-01",
            "title": "KUF BSc-level Module 1",
            "step": "2",
            "sectors": "",
            "delivery_mode": "BLENDED",
            "region": "UK-wide",
            "cost": "£1,250.50",
            "credits": "15",
            "credit_level": "RQF 6",
            "lived_experience_codelivery": "",
            "programme": "kuf pathway",
            "status": "",
        },
        {"reference": "C3", "title": "Free by default", "step": "Practitioner", "cost": ""},
        {"reference": "C4", "title": "Free in capitals", "step": "0", "cost": "FREE"},
        {"reference": "C5", "title": "Plain amount", "step": "LEADERSHIP", "cost": "450"},
        {"reference": "C6", "title": "Pence", "step": "advanced", "cost": "1250.5"},
    ]
    report = import_course_csv(make_csv(rows, list(ALL_COLUMNS)), provider)

    assert report.ok and report.applied, [str(p) for p in report.problems]
    assert (report.new, report.changed, report.unchanged, report.duplicates) == (6, 0, 0, 0)
    db.session.commit()
    found = courses_of(provider)
    assert set(found) == {"KUF-AWARE-1D", "KUF-BSC-01", "C3", "C4", "C5", "C6"}

    aware = found["KUF-AWARE-1D"]
    assert aware.slug == "kuf-awareness-working-with-personality-disorder-1-day"
    assert aware.title == "KUF Awareness: Working with Personality Disorder (1-day)"
    assert aware.summary == "A one-day session."
    assert aware.description == "First paragraph.\n\nSecond paragraph."
    assert aware.step.number == 1
    assert slugs(aware.sectors) == ["criminal-justice", "health-social-care"]
    assert slugs(aware.professions) == ["nurse", "social-worker"]
    assert slugs(aware.principles) == ["safety-confidence"]
    assert aware.delivery_mode.slug == "in-person"
    assert aware.region.slug == "north-west"
    assert (aware.duration_hours, aware.cpd_hours) == (6.5, 7.0)
    assert (aware.cost_type, aware.fee_pence) == ("funded", None)
    assert aware.external_url == "https://kuf-partnership.example.org/awareness/one-day"
    assert (aware.who_its_for, aware.entry_requirements) == ("Frontline staff.", "None.")
    assert aware.where_next == "KUF Awareness (3-day)."
    assert aware.lived_experience_codelivery is True
    # "published" asks for publication: the course waits for a curator (never public at once)
    assert aware.status == "submitted" and aware.published_at is None
    assert aware.review_requested_at is not None
    assert (aware.credits, aware.credit_level) == (None, None)
    assert aware.provider_id == provider.id

    bsc = found["KUF-BSC-01"]
    assert bsc.step.number == 2
    assert bsc.sectors == [] and bsc.professions == []
    assert (bsc.delivery_mode.slug, bsc.region.slug) == ("blended", "uk-wide")
    assert (bsc.cost_type, bsc.fee_pence) == ("fee", 125050)
    assert (bsc.credits, bsc.credit_level) == (15, "RQF 6")
    assert bsc.lived_experience_codelivery is False
    assert bsc.status == "draft" and bsc.published_at is None
    assert (bsc.summary, bsc.external_url, bsc.duration_hours) == ("", None, None)

    assert [found[r].step.slug for r in ("C3", "C4", "C5", "C6")] == [
        "practitioner",
        "introductory",
        "leadership",
        "advanced",
    ]
    costs = [(found[r].cost_type, found[r].fee_pence) for r in ("C3", "C4", "C5", "C6")]
    assert costs == [("free", None), ("free", None), ("fee", 45000), ("fee", 125050)]

    programme = db.session.scalars(select(Programme)).one()
    assert (programme.slug, programme.name, programme.provider_id) == (
        "kuf-pathway",
        "KUF Pathway",
        provider.id,
    )
    assert [(m.position, m.course.reference) for m in programme.modules] == [
        (1, "KUF-AWARE-1D"),
        (2, "KUF-BSC-01"),
    ]


def test_the_documented_template_imports_cleanly(provider):
    data = (PROJECT_ROOT / "docs" / "import-template.csv").read_bytes()
    report = import_course_csv(data, provider)
    assert report.ok and report.applied, [str(p) for p in report.problems]
    assert report.new == 3
    found = courses_of(provider)
    assert slugs(found["KUF-BSC-01"].sectors) == ["criminal-justice", "health-social-care"]
    assert found["MBT-BASIC"].fee_pence == 65000


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("Health and Social Care", "health-social-care"),
        ("health-social-care", "health-social-care"),
        ("  HEALTH & SOCIAL CARE ", "health-social-care"),
        ("Health  social-care", "health-social-care"),
        ("Criminal justice (prison and probation)", "criminal-justice"),
        ("criminal justice", "criminal-justice"),
        ("children and young peoples services", "children-young-people"),
        ("Children and young people\u2019s services", "children-young-people"),
    ],
)
def test_sector_matches_name_or_slug_loosely(provider, typed, slug):
    report = import_course_csv(make_csv([{**BASE, "sectors": typed}]), provider)
    assert report.ok, [str(p) for p in report.problems]
    assert slugs(courses_of(provider)["KUF-AWARE-1D"].sectors) == [slug]


def test_ambiguous_short_name_is_not_guessed(provider):
    """ "Online" could be live or self-paced, so it matches neither."""
    report = import_course_csv(make_csv([{**BASE, "delivery_mode": "Online"}]), provider)
    problem = only_problem(report)
    assert (problem.row, problem.column) == (2, "delivery_mode")
    assert "online-live, online-self-paced" in problem.message


def test_course_joins_an_existing_programme_as_its_next_module(provider, make_course):
    first = make_course("Already a module", provider=provider)
    programme = Programme(
        slug="kuf-leadership",
        name="KUF Leadership Programme",
        provider=provider,
        modules=[ProgrammeModule(course=first, position=3)],
    )
    db.session.add(programme)
    db.session.commit()
    rows = [
        {**BASE, "reference": "L2", "programme": "kuf-leadership"},
        {**BASE, "reference": "L3", "programme": "KUF leadership programme"},
    ]
    report = import_course_csv(make_csv(rows), provider)
    assert report.ok
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Programme)) == 1
    assert [(m.position, m.course.reference) for m in programme.modules] == [
        (3, first.reference),
        (4, "L2"),
        (5, "L3"),
    ]
    again = import_course_csv(make_csv(rows), provider)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 2)
    db.session.expire_all()
    assert len(programme.modules) == 3


def test_another_providers_programme_slug_is_a_problem(provider, make_provider):
    other = make_provider()
    db.session.add(Programme(slug="their-programme", name="Theirs", provider=other))
    db.session.commit()
    report = import_course_csv(make_csv([{**BASE, "programme": "their-programme"}]), provider)
    problem = only_problem(report)
    assert (problem.row, problem.column) == (2, "programme")
    assert "another provider" in problem.message
    # A name that merely slugifies to their slug creates a programme of our own.
    report = import_course_csv(make_csv([{**BASE, "programme": "Their programme"}]), provider)
    assert report.ok
    ours = db.session.scalars(select(Programme).where(Programme.provider_id == provider.id))
    assert [(p.slug, p.name) for p in ours] == [("their-programme-2", "Their programme")]


def test_new_course_slug_avoids_slugs_taken_by_other_providers(provider, make_course):
    make_course("KUF Awareness (1-day)", slug="kuf-awareness-1-day")
    import_course_csv(make_csv([BASE]), provider)
    assert courses_of(provider)["KUF-AWARE-1D"].slug == "kuf-awareness-1-day-2"


def test_same_reference_at_another_provider_is_a_different_course(provider, make_course):
    theirs = make_course("Theirs", reference="KUF-AWARE-1D")
    report = import_course_csv(make_csv([BASE]), provider)
    assert report.new == 1
    db.session.commit()
    db.session.expire_all()
    assert theirs.title == "Theirs"
    assert course_count() == 2


# --- Bad values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("reference", "", "is required"),
        ("reference", "R" * 81, "at most 80"),
        ("title", "", "is required"),
        ("title", "T" * 301, "at most 300"),
        ("step", "", "is required"),
        ("step", "7", "numbered 0 to 4"),
        ("step", "expert", '"expert" is not a step'),
        ("sectors", "education; Hosing", '"Hosing" is not a sector. Did you mean'),
        ("professions", "nurse, gp", 'Separate several values with ";"'),
        ("principles", "kindness", '"kindness" is not a principle'),
        ("delivery_mode", "by post", '"by post" is not a delivery mode'),
        ("region", "Mars", '"Mars" is not a region. Choose from: uk-wide, london'),
        ("duration_hours", "abc", "is not a number of hours"),
        ("duration_hours", "-3", "is negative"),
        ("cpd_hours", "20000", "more than 10,000 hours"),
        ("cpd_hours", "1,5", "is not a number of hours"),
        ("credits", "0", "whole number of credits above 0"),
        ("credits", "7.5", "whole number of credits above 0"),
        ("credits", "99999999999", "more than 1,000 credits"),
        ("credit_level", "L" * 41, "at most 40"),
        ("cost", "about £50", '"about £50" is not a cost'),
        ("cost", "-£5", "is negative"),
        ("cost", "£12.345", "is not a cost"),
        ("cost", "1,25", "is not a cost"),
        ("cost", "£250,000", "more than £100,000"),
        ("url", "www.example.org/course", "is not a full web address"),
        ("url", "ftp://example.org/course", "is not a full web address"),
        ("url", "https://example.org/a course", "contains a space"),
        ("lived_experience_codelivery", "maybe", '"maybe" is not yes or no'),
        ("status", "live", '"live" is not a status. Choose from: draft, submitted'),
        ("programme", "P" * 301, "at most 300"),
    ],
)
def test_one_bad_value_imports_nothing_and_names_row_and_column(provider, column, value, expected):
    rows = [
        {**BASE, "reference": "GOOD-1"},
        {**BASE, "reference": "BAD", column: value},
        {**BASE, "reference": "GOOD-2"},
    ]
    report = import_course_csv(make_csv(rows, list(dict.fromkeys([*BASE, column]))), provider)

    problem = only_problem(report)
    assert (problem.row, problem.column) == (3, column)
    assert expected in problem.message
    assert str(problem).startswith(f'Row 3, column "{column}": ')
    assert not report.applied and not report.ok
    assert report.skipped_rows == [3]
    assert course_count() == 0


def test_every_problem_in_a_file_is_reported(provider):
    rows = [
        {**BASE, "step": "9", "cost": "lots", "region": "Atlantis"},
        {**BASE, "reference": "OK"},
        {**BASE, "reference": "X", "url": "nope"},
    ]
    report = import_course_csv(make_csv(rows), provider)
    assert [(p.row, p.column) for p in report.problems] == [
        (2, "step"),
        (2, "cost"),
        (2, "region"),
        (4, "url"),
    ]
    assert course_count() == 0


def test_skip_bad_rows_imports_the_good_rows_and_reports_the_rest(provider):
    rows = [
        {**BASE, "reference": "GOOD-1"},
        {**BASE, "reference": "BAD-1", "step": "nine"},
        {**BASE, "reference": "GOOD-2"},
        {**BASE, "reference": "BAD-2", "cost": "-1"},
    ]
    report = import_course_csv(make_csv(rows), provider, skip_bad_rows=True)
    assert report.applied and not report.ok
    assert report.new == 2
    assert report.skipped_rows == [3, 5]
    assert [(p.row, p.column) for p in report.problems] == [(3, "step"), (5, "cost")]
    db.session.commit()
    assert set(courses_of(provider)) == {"GOOD-1", "GOOD-2"}


# --- Re-import, duplicates --------------------------------------------------------------------


def test_reimport_updates_in_place_and_counts_changes(provider):
    rows = [
        {**BASE, "reference": "A", "title": "Alpha", "sectors": "education", "status": "draft"},
        {**BASE, "reference": "B", "title": "Beta", "cost": "450"},
        {**BASE, "reference": "C", "title": "Gamma"},
    ]
    first = import_course_csv(make_csv(rows), provider)
    db.session.commit()
    assert (first.new, first.changed, first.unchanged) == (3, 0, 0)
    before = {ref: (c.id, c.slug) for ref, c in courses_of(provider).items()}
    updated_before = {ref: c.updated_at for ref, c in courses_of(provider).items()}

    rows[0].update(title="Alpha, renamed", sectors="education; housing-homelessness")
    rows[0]["status"] = "published"
    rows[1]["cost"] = "£450.00"  # the same amount, written differently
    rows[2]["cost"] = "funded"
    second = import_course_csv(make_csv(rows), provider)
    db.session.commit()

    assert (second.new, second.changed, second.unchanged) == (0, 2, 1)
    after = courses_of(provider)
    assert {ref: (c.id, c.slug) for ref, c in after.items()} == before
    assert after["A"].slug == "alpha" and after["A"].title == "Alpha, renamed"
    assert slugs(after["A"].sectors) == ["education", "housing-homelessness"]
    assert after["A"].status == "submitted" and after["A"].published_at is None
    assert after["A"].updated_at > updated_before["A"]
    assert after["B"].updated_at == updated_before["B"]
    assert (after["C"].cost_type, after["C"].fee_pence) == ("funded", None)
    assert course_count() == 3

    third = import_course_csv(make_csv(rows), provider)
    assert (third.new, third.changed, third.unchanged) == (0, 0, 3)


def test_applied_plan_leaves_no_stale_objects_in_the_session(provider):
    rows = [{**BASE, "sectors": "education", "programme": "Pathway"}]
    import_course_csv(make_csv(rows), provider)
    db.session.commit()
    programme = db.session.scalars(select(Programme)).one()
    rows += [{**BASE, "reference": "B", "programme": "Pathway"}]
    rows[0] |= {"title": "Renamed", "sectors": "education; housing-homelessness"}
    plan = check_course_csv(make_csv(rows), provider)
    course = plan.rows[0].course
    assert [m.position for m in programme.modules] == [1]
    apply_course_import(plan)
    # No commit: the objects the plan loaded are read afresh.
    assert course.title == "Renamed"
    assert slugs(course.sectors) == ["education", "housing-homelessness"]
    assert [m.position for m in programme.modules] == [1, 2]
    assert plan.rows[1].course_id == db.session.scalar(
        select(Course.id).where(Course.reference == "B")
    )


def test_written_courses_are_queued_for_search(provider):
    """Bulk writes bypass the ORM flush the search outbox listens to; the import queues them."""
    outbox = db.metadata.tables["search_outbox"]

    def queued() -> list[str]:
        references = db.session.execute(
            select(Course.reference)
            .join(outbox, outbox.c.entity_id == Course.id)
            .where(outbox.c.entity == "course")
            .order_by(outbox.c.id)
        )
        return list(references.scalars())

    rows = [{**BASE, "reference": "A"}, {**BASE, "reference": "B"}]
    import_course_csv(make_csv(rows), provider)
    db.session.commit()
    assert queued() == ["A", "B"]
    rows[1]["title"] = "Changed"
    import_course_csv(make_csv(rows), provider)
    db.session.commit()
    assert queued() == ["A", "B", "B"]


def test_a_new_programme_name_on_reimport_adds_the_course_to_it(provider):
    rows = [{**BASE, "programme": "First"}]
    import_course_csv(make_csv(rows), provider)
    db.session.commit()
    rows[0]["programme"] = "Second"
    report = import_course_csv(make_csv(rows), provider)
    assert report.changed == 1
    db.session.commit()
    found = db.session.scalars(select(Programme).order_by(Programme.id)).all()
    assert [(p.name, [m.course.reference for m in p.modules]) for p in found] == [
        ("First", ["KUF-AWARE-1D"]),
        ("Second", ["KUF-AWARE-1D"]),
    ]


def test_a_column_left_out_leaves_that_field_alone(provider):
    import_course_csv(make_csv([{**BASE, "sectors": "education", "cost": "450"}]), provider)
    db.session.commit()
    report = import_course_csv(make_csv([{**BASE, "title": "New title"}]), provider)
    db.session.commit()
    assert report.changed == 1
    course = courses_of(provider)["KUF-AWARE-1D"]
    assert course.title == "New title"
    assert slugs(course.sectors) == ["education"] and course.fee_pence == 45000


def test_exact_duplicate_row_is_imported_once_with_a_notice(provider):
    rows = [{**BASE, "reference": "A"}, {**BASE, "reference": "B"}, {**BASE, "reference": "A"}]
    report = import_course_csv(make_csv(rows), provider)
    assert report.ok and report.applied
    assert (report.new, report.duplicates) == (2, 1)
    assert [(n.row, n.column) for n in report.notices] == [(4, None)]
    assert "repeats row 2 exactly" in report.notices[0].message
    assert course_count() == 2


def test_same_reference_with_different_content_is_a_problem_naming_both_rows(provider):
    rows = [
        {**BASE, "reference": "A", "title": "One"},
        {**BASE, "reference": "B"},
        {**BASE, "reference": "A", "title": "Two"},
    ]
    report = import_course_csv(make_csv(rows), provider, skip_bad_rows=True)
    problem = only_problem(report)
    assert (problem.row, problem.column) == (4, "reference")
    assert '"A" is also the reference of row 2' in problem.message
    assert report.skipped_rows == [2, 4]
    assert set(courses_of(provider)) == {"B"}


# --- Encoding, line endings, row numbers ---------------------------------------------------


def test_bom_crlf_blank_lines_and_quoted_newlines(provider):
    data = (
        "\ufeffReference , TITLE,Step,description\r\n"
        '"A","Alpha",1,"line one\r\nline two\r\nline three"\r\n'
        "\r\n"
        ",,,\r\n"
        '"B","Beta",awareness,"x"\r\n'
        '"C","Gamma",nine,"y"\r\n'
    ).encode()
    report = import_course_csv(data, provider, skip_bad_rows=True)

    problem = only_problem(report)
    # Spreadsheet rows: header 1, A 2, blank 3, commas 4, B 5, C 6. A's cell spans three
    # physical lines, so C starts on line 8 of the file.
    assert (problem.row, problem.column, problem.line) == (6, "step", 8)
    assert str(problem).startswith('Row 6 (line 8 of the file), column "step": ')
    assert report.rows == 3
    found = courses_of(provider)
    assert set(found) == {"A", "B"}
    assert found["A"].description == "line one\nline two\nline three"


def test_text_is_normalised_and_nul_never_reaches_the_database(provider):
    decomposed = "Cafe\u0301 relationnel"
    rows = [
        {
            **BASE,
            "title": f"\u200b{decomposed}\x00\u2060 ",
            "summary": "tab\tkept\x07, bell gone\ufeff",
            "description": "para\u200c one\x00\n\npara\u200d two\x1b",
            "credit_level": "RQF\u00a06",
        }
    ]
    report = import_course_csv(make_csv(rows), provider)
    assert report.ok
    db.session.commit()
    course = courses_of(provider)["KUF-AWARE-1D"]
    assert course.title == "Caf\u00e9 relationnel" and len(course.title) == 16
    assert course.summary == "tab\tkept, bell gone"
    assert course.description == "para one\n\npara two"
    assert course.credit_level == "RQF 6"


def test_windows_1252_bytes_are_read_as_such_and_said(provider):
    data = make_csv([BASE]) + "ZZ,Caf\u00e9 \u201crelational\u201d \u00a350,1\n".encode("cp1252")
    report = import_course_csv(data, provider)
    assert report.ok and report.applied and report.encoding == "windows-1252"
    assert any("Windows-1252" in notice.message for notice in report.notices)
    assert courses_of(provider)["ZZ"].title == "Caf\u00e9 \u201crelational\u201d \u00a350"


def test_bytes_neither_utf8_nor_windows_1252_import_nothing(provider):
    data = make_csv([BASE]) + b"ZZ,Caf\x81,1\n"
    report = import_course_csv(data, provider, skip_bad_rows=True)
    problem = only_problem(report)
    assert problem.row is None
    assert "not UTF-8" in problem.message and "line 3" in problem.message
    assert "0x81" in problem.message
    assert not report.applied and course_count() == 0


def test_binary_files_are_called_what_they_are(provider):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    assert "not a CSV file" in only_problem(import_course_csv(png, provider)).message


def test_utf16_file_is_explained(provider):
    report = import_course_csv(make_csv([BASE]).decode().encode("utf-16"), provider)
    assert "UTF-16" in only_problem(report).message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "The file is empty"),
        (b"\xef\xbb\xbf\r\n\r\n,,\r\n", "The file is empty"),
        (b"reference,title,step\r\n", "header row but no courses"),
        (b"reference,title,step\n,,\n\n", "header row but no courses"),
    ],
)
def test_empty_file_or_header_only(provider, data, expected):
    report = import_course_csv(data, provider)
    assert expected in only_problem(report).message
    assert not report.applied


# --- The header ------------------------------------------------------------------------------


def test_header_names_ignore_case_spacing_and_order(provider):
    data = b" Step ,TITLE,  Reference,Who its for,delivery mode\n2,Alpha,A,Everyone,Blended\n"
    report = import_course_csv(data, provider)
    assert report.ok, [str(p) for p in report.problems]
    course = courses_of(provider)["A"]
    assert (course.title, course.step.number, course.who_its_for) == ("Alpha", 2, "Everyone")
    assert course.delivery_mode.slug == "blended"


def test_unknown_column_is_named_with_the_valid_columns(provider):
    report = import_course_csv(make_csv([{**BASE, "sector": "education"}]), provider)
    problem = only_problem(report)
    assert (problem.row, problem.column) == (1, "sector")
    assert 'Did you mean "sectors"?' in problem.message
    assert "The columns are: reference, title, summary" in problem.message
    assert "credits, credit_level" in problem.message
    assert course_count() == 0


def test_missing_required_and_repeated_columns_are_header_problems(provider):
    data = b"reference,title,title\nA,Alpha,Alpha\n"
    report = import_course_csv(data, provider, skip_bad_rows=True)
    assert [(p.row, p.column) for p in report.problems] == [(1, "title"), (1, "step")]
    assert "appears twice" in report.problems[0].message
    assert "required but missing" in report.problems[1].message
    assert not report.applied


def test_semicolon_separated_file_is_explained(provider):
    report = import_course_csv(b"reference;title;step\nA;Alpha;1\n", provider)
    assert "separated by semicolons" in only_problem(report).message


def test_extra_values_beyond_the_header_are_a_problem(provider):
    data = b"reference,title,step\nA,Alpha,1\nB,Beta,1,surprise\n"
    report = import_course_csv(data, provider)
    problem = only_problem(report)
    assert problem.row == 3 and "stray comma" in problem.message


# --- The plan ----------------------------------------------------------------------------------


def test_checking_writes_nothing_and_a_plan_applies_once(provider, count_queries):
    data = make_csv(numbered(5, programme="New programme"))
    with count_queries() as counter:
        plan = check_course_csv(data, provider)
    assert all(s.lstrip().upper().startswith("SELECT") for s in counter.statements)
    assert (plan.report.new, plan.report.applied) == (5, False)
    assert course_count() == 0
    apply_course_import(plan)
    assert course_count() == 5
    with pytest.raises(RuntimeError):
        apply_course_import(plan)


@pytest.mark.parametrize("kind", ["new", "changed"])
def test_import_queries_do_not_grow_with_rows(taxonomy, make_provider, count_queries, kind):
    def run(count: int) -> int:
        provider = make_provider()
        cells = {"sectors": "education; health-social-care", "professions": "nurse"}
        cells |= {"programme": "Pathway", "status": "published"}
        if kind == "changed":
            import_course_csv(make_csv(numbered(count, **cells)), provider)
            db.session.commit()
            cells |= {"sectors": "education", "cost": "450", "status": "archived"}
        data = make_csv(numbered(count, **cells))
        with count_queries() as counter:
            report = import_course_csv(data, provider)
        assert getattr(report, kind) == count
        db.session.commit()
        return counter.count

    assert run(20) == run(200)


# --- The command line ----------------------------------------------------------------------


@pytest.fixture
def template_file(tmp_path) -> Path:
    path = tmp_path / "courses.csv"
    path.write_bytes((PROJECT_ROOT / "docs" / "import-template.csv").read_bytes())
    return path


def test_cli_imports_a_good_file_and_reports(runner, provider, template_file):
    args = ["courses", "import", str(template_file), "--provider", "kuf-partnership"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        'Imported courses.csv for "KUF Delivery Partnership" (kuf-partnership):'
        " 3 new, 0 changed, 0 unchanged.\nNew:\n"
    )
    assert "  Row 4: Mentalization-Based Treatment (MBT) Basic Training (MBT-BASIC)\n" in (
        result.output
    )
    assert course_count() == 3

    again = runner.invoke(args=args)
    assert "0 new, 0 changed, 3 unchanged." in again.output
    assert course_count() == 3


def test_cli_reports_a_bad_file_and_imports_nothing(runner, provider, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(make_csv([BASE, {**BASE, "reference": "B", "sectors": "Hosing"}, BASE]))
    result = runner.invoke(args=["courses", "import", str(path), "--provider", provider.slug])
    assert result.exit_code == 1
    assert 'Row 3, column "sectors": "Hosing" is not a sector.' in result.output
    assert "Row 4: repeats row 2 exactly" in result.output
    assert "Nothing was imported: bad.csv has 1 problem." in result.output
    assert "--skip-bad-rows" in result.output
    assert course_count() == 0


def test_cli_skip_bad_rows(runner, provider, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(make_csv([BASE, {**BASE, "reference": "B", "step": "x"}]))
    args = ["courses", "import", str(path), "--provider", provider.slug, "--skip-bad-rows"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "1 new, 0 changed, 0 unchanged" in result.output
    assert "Skipped 1 bad row: 3." in result.output
    assert 'Row 3, column "step"' in result.output
    assert course_count() == 1


def test_cli_unknown_provider_is_an_error(runner, taxonomy, template_file):
    args = ["courses", "import", str(template_file), "--provider", "nobody"]
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert 'No provider has the slug "nobody"' in result.output
    assert "--create-provider" in result.output
    assert db.session.scalar(select(func.count()).select_from(Provider)) == 0


def test_cli_create_provider(runner, taxonomy, template_file):
    args = ["courses", "import", str(template_file), "--provider", "kent-recovery"]
    result = runner.invoke(args=[*args, "--create-provider", "Kent Recovery College"])
    assert result.exit_code == 0, result.output
    assert 'Created the provider "Kent Recovery College" (kent-recovery).' in result.output
    provider = db.session.scalars(select(Provider)).one()
    assert (provider.slug, provider.name) == ("kent-recovery", "Kent Recovery College")
    assert set(courses_of(provider)) == {"KUF-AWARE-1D", "KUF-BSC-01", "MBT-BASIC"}
    programme = db.session.scalars(select(Programme)).one()
    assert programme.provider_id == provider.id

    again = runner.invoke(args=[*args, "--create-provider", "Kent Recovery College"])
    assert again.exit_code == 0 and "Created" not in again.output
    assert db.session.scalar(select(func.count()).select_from(Provider)) == 1


def test_cli_does_not_create_the_provider_when_the_file_is_bad(runner, taxonomy, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(make_csv([{**BASE, "step": "x"}]))
    args = ["courses", "import", str(path), "--provider", "new-one", "--create-provider", "New"]
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert db.session.scalar(select(func.count()).select_from(Provider)) == 0


def test_cli_refuses_an_unusable_new_provider_slug(runner, taxonomy, template_file):
    args = ["courses", "import", str(template_file), "--provider", "Not A Slug"]
    result = runner.invoke(args=[*args, "--create-provider", "Someone"])
    assert result.exit_code == 1
    assert "cannot be a provider slug" in result.output


def test_cli_reads_a_windows_1252_file_and_says_so(runner, provider, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("reference,title,step\nA,Café,1\n".encode("cp1252"))
    args = ["courses", "import", str(path), "--provider", provider.slug]
    result = runner.invoke(args=args)
    assert result.exit_code == 1  # a guessed encoding is shown first, never written unseen
    assert "Windows-1252" in result.output and 'Row 2, column "title": Café' in result.output
    assert course_count() == 0
    result = runner.invoke(args=[*args, "--windows-1252"])
    assert result.exit_code == 0
    assert "Windows-1252" in result.output and "1 new" in result.output


def test_match_key_ignores_case_punctuation_accents_and_and():
    assert match_key("Health & Social  Care") == match_key("health-social-care")
    assert match_key("Éducation") == match_key("education")
