"""Bulk import of a provider's courses from a CSV file in the template (``docs/import-guide.md``).

Two steps, so that a web upload can show the report before anything is written:

1. :func:`check_course_csv` decodes and validates the bytes into a :class:`CourseImport` plan. It
   reads the database (a fixed number of queries whatever the file's length) but never writes.
2. :func:`apply_course_import` writes the plan and flushes; it never commits. By default a file
   with any problem writes nothing; ``skip_bad_rows=True`` writes the good rows.

:func:`import_course_csv` does both. Courses are keyed on (provider, reference), so importing the
same file again updates in place. A column left out of the file leaves that field of existing
courses as it is; an empty cell sets the field to its empty value.

The same publishing rules hold for the command line and the web screen (``docs/import-guide.md``,
"Status and review"): an import never publishes anything. The ``status`` column asks for a move
that the provider could make on the course's page (``academy.catalogue.states``), or the row is
a problem; a published course's changes wait for a curator as its pending edit, exactly as an
edit on its page does; an archived course is never changed (its row is skipped, saying why).
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import selectinload

from academy.catalogue import states
from academy.catalogue.models import (
    TAG_TABLES,
    Course,
    Programme,
    ProgrammeModule,
)
from academy.catalogue.slugs import make_unique_slug
from academy.catalogue.versions import encode, encoded, pending
from academy.db_types import utcnow
from academy.extensions import db
from academy.imports.text import (
    WINDOWS_1252_NOTICE,
    UndecodableFile,
    clean_line,
    clean_text,
    decode_csv,
    header_key,
    match_key,
)
from academy.providers.models import Provider
from academy.search import outbox as search_outbox
from academy.taxonomy.models import TERM_MODELS, Step, TermMixin

COLUMNS = (
    "reference",
    "title",
    "summary",
    "description",
    "step",
    "sectors",
    "professions",
    "principles",
    "delivery_mode",
    "region",
    "duration_hours",
    "cpd_hours",
    "cost",
    "url",
    "who_its_for",
    "entry_requirements",
    "where_next",
    "lived_experience_codelivery",
    "programme",
    "status",
)
"""The template's columns, in the template's order."""

EXTRA_COLUMNS = ("credits", "credit_level")
"""Optional columns a file may add for accredited courses."""

ALL_COLUMNS = COLUMNS + EXTRA_COLUMNS
REQUIRED_COLUMNS = ("reference", "title", "step")
MULTILINE_COLUMNS = frozenset(
    {"summary", "description", "who_its_for", "entry_requirements", "where_next"}
)

MAX_HOURS = 10_000
MAX_CREDITS = 1_000
MAX_FEE_PENCE = 100_000 * 100

_TAG_KINDS = {"sectors": "sector", "professions": "profession", "principles": "principle"}
_ONE_KINDS = {"delivery_mode": ("delivery_modes", "delivery mode"), "region": ("regions", "region")}
_TERM_ATTRIBUTES = ("step", "delivery_mode", "region")
_REPEATING_COLUMNS = frozenset(
    {"step", "sectors", "professions", "principles", "delivery_mode", "region", "status", "cost"}
)

# What a new course gets for a column the file leaves out.
_DEFAULTS: dict[str, Any] = {
    "summary": "",
    "description": "",
    "who_its_for": "",
    "entry_requirements": "",
    "where_next": "",
    "sectors": [],
    "professions": [],
    "principles": [],
    "delivery_mode": None,
    "region": None,
    "duration_hours": None,
    "cpd_hours": None,
    "credits": None,
    "credit_level": None,
    "cost_type": "free",
    "fee_pence": None,
    "external_url": None,
    "lived_experience_codelivery": False,
}

#: what the ``status`` column may ask for (``docs/import-guide.md``); empty asks for nothing
STATUS_REQUESTS = ("draft", "submitted", "published", "archived")
#: model attributes back to the file's column names, for naming what a row changes
_ATTRIBUTE_COLUMNS = {"external_url": "url", "cost_type": "cost", "fee_pence": "cost"}

_YES = frozenset({"yes", "y", "true", "1"})
_NO = frozenset({"no", "n", "false", "0", ""})
_HOURS = re.compile(r"^\+?(\d+(?:\.\d*)?|\.\d+)\s*(?:h|hrs?|hours?)?$")
_NEGATIVE = re.compile(r"^-\s*\d")
_POUNDS = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")
_STEP_NUMBER = re.compile(r"^(?:step\s*)?(\d+)$")
_PROVIDER_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Problem:
    """Something wrong with (or, as a notice, worth knowing about) the file.

    ``row`` is the row number a spreadsheet shows (the header is row 1; a cell holding several
    lines still counts as one row); ``None`` for the file as a whole. ``line`` is the physical
    line of the file where the row starts, kept only when it differs from ``row``.
    """

    row: int | None
    column: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        place = []
        if self.row is not None:
            line = f" (line {self.line} of the file)" if self.line else ""
            place.append(f"Row {self.row}{line}")
        if self.column is not None:
            place.append(f'column "{self.column}"')
        return f"{', '.join(place)}: {self.message}" if place else self.message


@dataclass
class ImportReport:
    """What an import found and did.

    ``new``, ``changed`` and ``unchanged`` count the valid rows by what they do to the catalogue;
    ``applied`` says whether they were written (a file with problems writes nothing unless bad
    rows are skipped). ``duplicates`` counts rows that exactly repeat an earlier row.
    """

    problems: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    duplicates: int = 0
    rows: int = 0
    skipped_rows: list[int] = field(default_factory=list)
    applied: bool = False
    encoding: str = "utf-8"
    #: each valid row's course and what the import does to it, in the file's order
    outcomes: list[RowOutcome] = field(default_factory=list)
    #: when the encoding was guessed: the cells whose reading depends on the guess
    guessed_cells: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the file has no problems at all."""
        return not self.problems

    @property
    def encoding_guessed(self) -> bool:
        """The file was not UTF-8 and was read as Windows-1252: a person should look at
        :attr:`guessed_cells` before it is written."""
        return self.encoding == "windows-1252"

    @property
    def skipped(self) -> int:
        """Valid rows left alone because of the course's state (an archived course)."""
        return sum(1 for outcome in self.outcomes if outcome.outcome == "skipped")

    def named(self, outcome: str) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.outcome == outcome]


@dataclass(frozen=True)
class RowOutcome:
    """What the import does with one valid row: ``new``, ``changed`` (``fields`` names the
    file's columns that change, ``waits`` when a curator must approve the change first),
    ``unchanged`` or ``skipped`` (``reason`` says why)."""

    row: int
    reference: str
    title: str
    outcome: str
    fields: tuple[str, ...] = ()
    reason: str = ""
    waits: bool = False

    def __str__(self) -> str:
        text = f"Row {self.row}: {self.title} ({self.reference})"
        if self.fields:
            text += f": {', '.join(self.fields)}"
        if self.waits:
            text += " (waits for a curator's review; learners see the approved version)"
        if self.reason:
            text += f": {self.reason}"
        return text


@dataclass
class CourseRow:
    """One valid row: the fields it sets (model attribute names) and what it does.

    ``course`` is the existing course it updates (``None`` for a new one); ``course_id`` is known
    for a new course once the plan is applied.
    """

    row: int
    reference: str
    values: dict[str, Any]
    programme: str | None
    course: Course | None = None
    course_id: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    joins_programme: bool = False
    #: what the ``status`` cell asked for (None: nothing)
    status_request: str | None = None
    #: the status this row gives the course (None: it stays as it is)
    new_status: str | None = None
    #: a published course's changes, kept as its pending edit (encoded), or None
    edit: dict[str, Any] | None = None
    #: the fields the pending edit changes against what the provider last sent
    edit_fields: list[str] = field(default_factory=list)
    skip_reason: str = ""

    @property
    def outcome(self) -> str:
        if self.skip_reason:
            return "skipped"
        if self.course is None:
            return "new"
        if self.changes or self.joins_programme or self.new_status or self.edit is not None:
            return "changed"
        return "unchanged"


@dataclass
class CourseImport:
    """A checked file, ready for :func:`apply_course_import` in the same database session."""

    provider: Provider
    report: ImportReport
    rows: list[CourseRow] = field(default_factory=list)
    lookups: _Lookups | None = None
    readable: bool = False


class ProviderNotFound(LookupError):
    """No provider has the slug given for an import."""


class InvalidProvider(ValueError):
    """A provider to be created has an unusable slug or name."""


def resolve_provider(slug: str, create_name: str | None = None) -> tuple[Provider, bool]:
    """Return ``(provider, created)`` for the provider with ``slug``.

    When no provider has the slug and ``create_name`` is given, a provider of that name is added
    and flushed (never committed).

    :raise ProviderNotFound: when no provider has the slug and ``create_name`` is not given.
    :raise InvalidProvider: when the provider to create has an unusable slug or name.
    """
    provider = db.session.scalar(select(Provider).where(Provider.slug == slug))
    if provider is not None:
        return provider, False
    if create_name is None:
        raise ProviderNotFound(
            f'No provider has the slug "{slug}". Check the slug, or add'
            ' --create-provider "Provider name" to create the provider first.'
        )
    name = clean_line(create_name)
    if not _PROVIDER_SLUG.match(slug) or len(slug) > 80:
        raise InvalidProvider(
            f'"{slug}" cannot be a provider slug: use lower-case letters, digits and single'
            " hyphens, at most 80 characters (for example kent-recovery-college)."
        )
    if not name or len(name) > 200:
        raise InvalidProvider("The new provider needs a name of 1 to 200 characters.")
    provider = Provider(slug=slug, name=name)
    db.session.add(provider)
    db.session.flush()
    return provider, True


def import_course_csv(
    data: bytes, provider: Provider, *, skip_bad_rows: bool = False
) -> ImportReport:
    """Check ``data`` (the bytes of a CSV file) and apply it for ``provider``; flush, never commit.

    Returns the :class:`ImportReport`; nothing is written when ``report.applied`` is false.
    """
    return apply_course_import(check_course_csv(data, provider), skip_bad_rows=skip_bad_rows)


def check_course_csv(data: bytes, provider: Provider) -> CourseImport:
    """Decode and validate ``data`` for ``provider`` without writing anything.

    Every problem found is in ``plan.report.problems`` with its row and column; nothing is raised
    for bad input. The queries are the same few whatever the number of rows.
    """
    report = ImportReport()
    plan = CourseImport(provider=provider, report=report)
    try:
        text, encoding = decode_csv(data)
    except UndecodableFile as error:
        report.problems.append(Problem(None, None, str(error)))
        return plan
    report.encoding = encoding
    if encoding == "windows-1252":
        report.notices.append(Problem(None, None, WINDOWS_1252_NOTICE))
    table = _read_table(text, report)
    if table is None:
        return plan
    columns, records = table
    if encoding == "windows-1252":
        report.guessed_cells = [
            Problem(record.row, column, value, record.line)
            for record in records
            for column, value in record.cells.items()
            if not value.isascii()
        ]
    plan.lookups = lookups = _Lookups.load(provider)
    plan.readable = True

    bad_rows: set[int] = set()
    checked = _check_records(records, columns, lookups, report, bad_rows)
    if report.rows == 0:
        report.problems.append(
            Problem(None, None, "The file has a header row but no courses below it.")
        )
    for row in checked:
        if row.row in bad_rows:
            continue
        lookups.compare(row)
        problem = _settle(row)
        if problem is not None:
            report.problems.append(Problem(row.row, "status", problem))
            bad_rows.add(row.row)
    plan.rows = [row for row in checked if row.row not in bad_rows]
    report.skipped_rows = sorted(bad_rows)
    for row in plan.rows:
        if row.outcome != "skipped":
            setattr(report, row.outcome, getattr(report, row.outcome) + 1)
        report.outcomes.append(_outcome_of(row))
    return plan


def _check_records(
    records, columns, lookups: _Lookups, report: ImportReport, bad_rows: set[int]
) -> list[CourseRow]:
    """Check each record on its own and against the rows before it (an exact repeat is
    imported once; a reused reference refuses both rows). Problems go to ``report`` and their
    rows to ``bad_rows``; returns the rows that passed."""
    seen_cells: dict[tuple[str, ...], int] = {}
    seen_references: dict[str, int] = {}
    checked: list[CourseRow] = []
    for record in records:
        report.rows += 1
        if record.problem is not None:
            report.problems.append(record.problem)
            bad_rows.add(record.row)
            continue
        cells = record.cells
        key = tuple(cells.get(column, "") for column in columns)
        first = seen_cells.setdefault(key, record.row)
        if first != record.row:
            report.duplicates += 1
            report.notices.append(
                Problem(
                    record.row,
                    None,
                    f"repeats row {first} exactly, so it is imported once.",
                    record.line,
                )
            )
            continue
        problems: list[Problem] = []
        row = _check_row(record, lookups, problems)
        reference = cells.get("reference", "")
        if reference:
            earlier = seen_references.setdefault(reference, record.row)
            if earlier != record.row:
                problems.append(
                    Problem(
                        record.row,
                        "reference",
                        f'"{reference}" is also the reference of row {earlier}, whose other'
                        " cells differ. Each course needs its own reference; neither row is"
                        " imported.",
                        record.line,
                    )
                )
                bad_rows.add(earlier)
        if problems:
            report.problems.extend(problems)
            bad_rows.add(record.row)
        elif row is not None:
            checked.append(row)
    return checked


def _settle(row: CourseRow) -> str | None:
    """Apply the publishing rules to a compared row: the status it asks for, an archived
    course left alone, a published course's changes kept as its pending edit. Returns a
    problem (the status cannot be honoured) or None."""
    request = row.values.pop("status", None)
    row.changes.pop("status", None)
    row.status_request = request
    course = row.course
    if course is None:
        if request == "archived":
            return "a new course cannot be archived: leave the row out, or write draft."
        row.new_status = "submitted" if request in ("submitted", "published") else "draft"
        return None
    state = states.state_of(course)
    if state == "archived":
        if row.changes or row.joins_programme or request not in (None, "archived"):
            row.skip_reason = (
                "the course is archived, so an import never changes it (its page says it can no"
                " longer be edited)."
            )
        row.changes = {}
        row.joins_programme = False
        return None
    if request == "archived":
        row.new_status = "archived"
    elif request == "draft":
        if state == "submitted":
            row.new_status = "draft"  # withdrawn from the queue, as on the course's page
        elif state not in ("draft", "rejected"):
            return (
                f'"draft": the course is {states.STATES[state].label.lower()}, and an import'
                " cannot take it back to draft. Archive it on its page, or leave the cell"
                " empty."
            )
    elif request in ("submitted", "published") and state in ("draft", "rejected"):
        row.new_status = "submitted"
    if course.status == "published" and row.new_status != "archived":
        live = encoded(course)
        shown = {**live, **(pending(course) or {})}
        wanted = {
            **shown,
            **encode({k: v for k, v in row.values.items() if k in states.REVIEWED_FIELDS}),
        }
        edit = {k: v for k, v in wanted.items() if live.get(k) != v}
        row.changes = {k: row.values[k] for k in row.changes if k not in states.REVIEWED_FIELDS}
        if edit != (pending(course) or {}):
            row.edit = edit
            row.edit_fields = sorted(k for k in wanted if wanted[k] != shown.get(k))
    return None


def _outcome_of(row: CourseRow) -> RowOutcome:
    title = row.values.get("title") or (row.course.title if row.course else "")
    fields = {_ATTRIBUTE_COLUMNS.get(k, k) for k in row.changes}
    if row.edit is not None:
        fields |= {_ATTRIBUTE_COLUMNS.get(k, k) for k in row.edit_fields}
    if row.course is not None and row.new_status:
        fields.add(f"status ({row.new_status})")
    if row.joins_programme:
        fields.add("programme")
    return RowOutcome(
        row=row.row,
        reference=row.reference,
        title=title,
        outcome=row.outcome,
        fields=tuple(sorted(fields)) if row.outcome == "changed" else (),
        reason=row.skip_reason,
        waits=row.edit is not None and bool(row.edit),
    )


def apply_course_import(plan: CourseImport, *, skip_bad_rows: bool = False) -> ImportReport:
    """Write the checked rows of ``plan``: add new courses, update changed ones; flush only.

    Nothing is written when the file could not be read, or when it has any problem and
    ``skip_bad_rows`` is false. New courses get a unique slug from their title; existing courses
    keep theirs. A programme named in the file that the provider does not have is created, and a
    course joins it as its next module unless it is already one. Rows are written with a few
    bulk statements whatever their number; the courses and programmes of the plan that were
    written are expired, so they are read afresh when next used.

    :raise RuntimeError: when the plan has already been applied.
    """
    report = plan.report
    if report.applied:
        raise RuntimeError("This import has already been applied.")
    if not plan.readable or (report.problems and not skip_bad_rows):
        return report
    report.applied = True
    pending = [row for row in plan.rows if row.outcome not in ("unchanged", "skipped")]
    if not pending:
        return report
    assert plan.lookups is not None  # nosec B101  # an invariant: check_course_csv sets it
    programmes = plan.lookups.programmes
    now = utcnow()
    for row in pending:
        if row.programme is not None and programmes.find(row.programme) is None:
            programmes.create(row.programme, plan.provider)
    db.session.flush()  # new programmes get their ids

    new_rows = [row for row in pending if row.course is None]
    if new_rows:
        _insert_courses(new_rows, plan.provider, now)
    changed_rows = [
        row for row in pending if row.course is not None and (row.changes or row.new_status)
    ]
    if changed_rows:
        _update_courses(changed_rows, now)
    _keep_edits([row for row in pending if row.edit is not None], now)
    _replace_tags(pending)

    modules = []
    for row in pending:
        if row.programme is not None:
            programme = programmes.find(row.programme)
            # an invariant, not a check: found or created above and flushed, so the ids exist
            assert programme is not None and row.course_id is not None  # nosec B101
            if row.course_id not in programmes.member_ids[programme]:
                modules.append(programmes.join(programme, row.course_id))
    if modules:
        db.session.execute(insert(ProgrammeModule), modules)
    _queue_for_search([row.course_id for row in pending if row.course_id is not None])
    for programme in programmes.touched:
        db.session.expire(programme, ["modules"])
    for row in changed_rows:
        db.session.expire(row.course)
    return report


def _insert_courses(rows: list[CourseRow], provider: Provider, now: datetime) -> None:
    """Insert new courses in one bulk statement and note their ids on the rows."""
    taken = set(db.session.scalars(select(Course.slug)))
    records = []
    for row in rows:
        values = {**_DEFAULTS, **row.values}
        slug = make_unique_slug(values["title"], taken)
        taken.add(slug)
        submitted = row.new_status == "submitted"
        records.append(
            {
                **_column_values(values),
                "status": row.new_status or "draft",
                "slug": slug,
                "provider_id": provider.id,
                "created_at": now,
                "updated_at": now,
                "published_at": None,
                "review_requested_at": now if submitted else None,
            }
        )
    db.session.execute(insert(Course), records)
    ids = {
        reference: course_id
        for reference, course_id in db.session.execute(
            select(Course.reference, Course.id).where(Course.provider_id == provider.id)
        )
    }
    for row in rows:
        row.course_id = ids[row.reference]


def _update_courses(rows: list[CourseRow], now: datetime) -> None:
    """Update the changed columns of existing courses by primary key, in bulk."""
    records = []
    for row in rows:
        record = {"id": row.course_id, **_column_values(row.changes), "updated_at": now}
        if row.new_status == "submitted":
            record.update(status="submitted", review_requested_at=now)
        elif row.new_status == "draft":
            record.update(status="draft", review_requested_at=None)
        elif row.new_status == "archived":
            record.update(status="archived", review_requested_at=None, pending_edit=None)
        records.append(record)
    # Rows changing the same columns share one executemany statement.
    records.sort(key=lambda record: sorted(record))
    db.session.execute(update(Course), records)


def _keep_edits(rows: list[CourseRow], now: datetime) -> None:
    """Keep published courses' changes as their pending edits (the live version stays), and
    put them in the curators' queue; an edit equal to the live version withdraws the pending
    one."""
    for row in rows:
        course = row.course
        assert course is not None  # nosec B101  # only existing, published courses have edits
        if row.edit:
            course.pending_edit = json.dumps(row.edit, sort_keys=True)
            if course.review_requested_at is None:
                course.review_requested_at = now
        else:
            course.pending_edit = None
            course.review_requested_at = None
    db.session.flush()


def _replace_tags(rows: list[CourseRow]) -> None:
    """Write the sectors, professions and principles of new courses, and replace those of
    existing courses whose tags changed."""
    for attribute, (table, term_column) in TAG_TABLES.items():
        replaced = [
            {"course_id": row.course_id}
            for row in rows
            if row.course is not None and attribute in row.changes
        ]
        if replaced:
            db.session.execute(
                delete(table).where(table.c.course_id == bindparam("course_id")), replaced
            )
        links = [
            {"course_id": row.course_id, term_column: term.id}
            for row in rows
            if (row.course is None and attribute in row.values) or attribute in row.changes
            for term in row.values[attribute]
        ]
        if links:
            db.session.execute(insert(table), links)


def _queue_for_search(course_ids: list[int]) -> None:
    """Queue the written courses for re-indexing, in the same transaction.

    The search outbox is filled by a listener on ORM flushes, which bulk statements bypass, so
    the import queues its entries itself.
    """
    search_outbox.queue(db.session(), {("course", course_id) for course_id in course_ids})


def _column_values(values: dict[str, Any]) -> dict[str, Any]:
    """Turn model attribute values into column values; tags are left out."""
    columns = {}
    for attribute, value in values.items():
        if attribute in TAG_TABLES:
            continue
        if attribute in _TERM_ATTRIBUTES:
            columns[f"{attribute}_id"] = None if value is None else value.id
        else:
            columns[attribute] = value
    return columns


@dataclass
class _Record:
    row: int
    line: int | None
    cells: dict[str, str]
    problem: Problem | None = None


def _read_table(text: str, report: ImportReport) -> tuple[list[str], list[_Record]] | None:
    """Return ``(columns, records)``: the canonical column names and the non-blank rows with
    cleaned cells; or ``None`` after adding the problems that stop the file being read at all."""
    reader = csv.reader(io.StringIO(text, newline=""))
    row = 0
    next_line = 1
    header: list[str] | None = None
    columns: list[str] = []
    records: list[_Record] = []
    try:
        for cells in reader:
            row += 1
            line, next_line = next_line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = cells
                columns = _check_header(header, row, report)
                if columns is None:
                    return None
                continue
            record = _record(cells, columns, row, line)
            if record is not None:
                records.append(record)
    except csv.Error as error:
        report.problems.append(
            Problem(row + 1, None, f"The file cannot be read from here on ({error}).")
        )
        return None
    if header is None:
        report.problems.append(Problem(None, None, "The file is empty: there is no header row."))
        return None
    return columns, records


def _record(cells: list[str], columns: list[str], row: int, line: int) -> _Record | None:
    """Return the row's cleaned cells by column; ``None`` for a row with nothing in it."""
    shown_line = line if line != row else None
    extra = [cell for cell in cells[len(columns) :] if cell.strip()]
    if extra:
        problem = Problem(
            row,
            None,
            f"has {len(cells)} values but the header names only {len(columns)} columns"
            f' (first extra value: "{clean_line(extra[0])[:40]}"). Check for a stray comma.',
            shown_line,
        )
        return _Record(row, shown_line, {}, problem)
    cleaned = {
        column: (clean_text(value) if column in MULTILINE_COLUMNS else clean_line(value))
        for column, value in zip(columns, cells, strict=False)
    }
    if not any(cleaned.values()):
        return None
    return _Record(row, shown_line, cleaned)


def _check_header(cells: list[str], row: int, report: ImportReport) -> list[str] | None:
    """Return the canonical column names in the file's order, or ``None`` after adding the
    problems with the header (a blank, unknown or repeated heading, a required column missing)."""
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    valid = ", ".join(ALL_COLUMNS)
    problems: list[Problem] = []
    if len(cells) == 1 and (";" in cells[0] or "\t" in cells[0]):
        separator = "semicolons" if ";" in cells[0] else "tabs"
        report.problems.append(
            Problem(
                row,
                None,
                f"The header row is a single cell: the file seems to be separated by {separator},"
                " not commas. Save it as CSV (comma delimited) and import it again.",
            )
        )
        return None
    columns: list[str] = []
    for position, heading in enumerate(cells, start=1):
        name = header_key(heading)
        if not name:
            problems.append(
                Problem(row, None, f"Column {position} has no heading. The columns are: {valid}.")
            )
        elif name not in ALL_COLUMNS:
            guess = difflib.get_close_matches(name, ALL_COLUMNS, n=1)
            hint = f' Did you mean "{guess[0]}"?' if guess else ""
            problems.append(
                Problem(
                    row,
                    clean_line(heading),
                    f"is not a column of the template.{hint} The columns are: {valid}.",
                )
            )
        elif name in columns:
            problems.append(Problem(row, name, "appears twice in the header."))
        columns.append(name)
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.append(Problem(row, name, "is required but missing from the header row."))
    if problems:
        report.problems.extend(problems)
        return None
    return columns


class _Invalid(ValueError):
    """A cell's value is not acceptable; the message says why in plain words."""


def _check_row(record: _Record, lookups: _Lookups, problems: list[Problem]) -> CourseRow | None:
    cells = record.cells
    values: dict[str, Any] = {}
    programme: str | None = None
    for column, value in cells.items():
        try:
            if column == "programme":
                programme = lookups.check_programme(value)
            else:
                values.update(_parse(column, value, lookups))
        except _Invalid as error:
            problems.append(Problem(record.row, column, str(error), record.line))
    if problems:
        return None
    return CourseRow(record.row, values["reference"], values, programme)


def _parse(column: str, value: str, lookups: _Lookups) -> dict[str, Any]:
    """Return the model attributes that ``value`` in ``column`` sets.

    :raise _Invalid: when the value is not acceptable.
    """
    if column in _REPEATING_COLUMNS:
        # The same few values recur on every row: parse each once.
        key = (column, value)
        parsed = lookups.parsed.get(key)
        if parsed is None:
            try:
                parsed = _parse_value(column, value, lookups)
            except _Invalid as error:
                parsed = error
            lookups.parsed[key] = parsed
        if isinstance(parsed, _Invalid):
            raise parsed
        return parsed
    return _parse_value(column, value, lookups)


def _parse_value(column: str, value: str, lookups: _Lookups) -> dict[str, Any]:
    if column == "reference":
        return {"reference": _required_text(value, 80)}
    if column == "title":
        return {"title": _required_text(value, 300)}
    if column in MULTILINE_COLUMNS:
        return {column: value}
    if column == "step":
        return {"step": lookups.step(value)}
    if column in _TAG_KINDS:
        return {column: lookups.many(column, value)}
    if column in _ONE_KINDS:
        return {column: lookups.one(column, value)}
    if column in ("duration_hours", "cpd_hours"):
        return {column: _hours(value)}
    if column == "credits":
        return {"credits": _credits(value)}
    if column == "credit_level":
        if len(value) > 40:
            raise _Invalid(f"is {len(value)} characters long; at most 40 are allowed.")
        return {"credit_level": value or None}
    if column == "cost":
        cost_type, fee_pence = _cost(value)
        return {"cost_type": cost_type, "fee_pence": fee_pence}
    if column == "url":
        return {"external_url": _url(value)}
    if column == "lived_experience_codelivery":
        return {"lived_experience_codelivery": _yes_no(value)}
    if column == "status":
        return {"status": _status(value)}
    raise AssertionError(f"unhandled column {column}")  # pragma: no cover


def _required_text(value: str, limit: int) -> str:
    if not value:
        raise _Invalid("is required, but the cell is empty.")
    if len(value) > limit:
        raise _Invalid(f"is {len(value)} characters long; at most {limit} are allowed.")
    return value


def _hours(value: str) -> float | None:
    if not value:
        return None
    match = _HOURS.match(value.lower())
    if match is None:
        if _NEGATIVE.match(value):
            raise _Invalid(f'"{value}" is negative; hours cannot be below 0.')
        raise _Invalid(f'"{value}" is not a number of hours. Write a number such as 1.5 or 21.')
    hours = float(match.group(1))
    if hours > MAX_HOURS:
        raise _Invalid(f'"{value}" is more than {MAX_HOURS:,} hours: please check it.')
    return hours


def _credits(value: str) -> int | None:
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or int(value) == 0:
        raise _Invalid(f'"{value}" is not a whole number of credits above 0 (such as 15 or 20).')
    if int(value) > MAX_CREDITS:
        raise _Invalid(f'"{value}" is more than {MAX_CREDITS:,} credits: please check it.')
    return int(value)


def _cost(value: str) -> tuple[str, int | None]:
    word = value.casefold()
    if word in ("", "free"):
        return "free", None
    if word == "funded":
        return "funded", None
    amount = word.removeprefix("gbp").strip().removeprefix("£").strip()
    match = _POUNDS.match(amount)
    if match is None:
        if _NEGATIVE.match(amount) or amount.startswith("£-") or amount.startswith("-£"):
            raise _Invalid(f'"{value}" is negative; a cost cannot be below £0.')
        raise _Invalid(
            f'"{value}" is not a cost. Write "free", "funded" or an amount in pounds'
            " such as 450 or £1,250.50."
        )
    pence = int(Decimal(match.group(1).replace(",", "") + "." + (match.group(2) or "0")) * 100)
    if pence == 0:
        return "free", None
    if pence > MAX_FEE_PENCE:
        raise _Invalid(f'"{value}" is more than £{MAX_FEE_PENCE // 100:,}: please check it.')
    return "fee", pence


def _url(value: str) -> str | None:
    if not value:
        return None
    if len(value) > 500:
        raise _Invalid(f"is {len(value)} characters long; at most 500 are allowed.")
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise _Invalid(
            f'"{value}" is not a full web address. Write it with https:// at the start,'
            " such as https://example.org/course."
        )
    if " " in value:
        raise _Invalid(f'"{value}" contains a space, which a web address cannot.')
    return value


def _yes_no(value: str) -> bool:
    word = value.casefold()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise _Invalid(f'"{value}" is not yes or no. Write yes or no (or leave it empty for no).')


def _status(value: str) -> str | None:
    """What the cell asks for (None: nothing). :raise _Invalid: a status no import may set."""
    word = value.casefold()
    if not word:
        return None
    if word == "rejected":
        raise _Invalid(
            '"rejected" is the curators\' answer to a submission: an import cannot set it.'
            f" Choose from: {', '.join(STATUS_REQUESTS)}, or leave it empty."
        )
    if word not in STATUS_REQUESTS:
        raise _Invalid(f'"{value}" is not a status. Choose from: {", ".join(STATUS_REQUESTS)}.')
    return word


class _Programmes:
    """The provider's programmes by slug and name, with their members' course ids and next
    free position."""

    def __init__(self, provider: Provider) -> None:
        own: list[Programme] = []
        if provider.id is not None:
            own = db.session.scalars(
                select(Programme)
                .where(Programme.provider_id == provider.id)
                .options(selectinload(Programme.modules))
            ).all()
        self.taken: set[str] = set()
        self.other_slugs: set[str] = set()
        for slug, provider_id in db.session.execute(select(Programme.slug, Programme.provider_id)):
            self.taken.add(slug)
            if provider_id != provider.id:
                self.other_slugs.add(slug)
        self.by_key: dict[str, Programme] = {}
        for programme in own:
            self.by_key.setdefault(match_key(programme.name), programme)
        for programme in own:
            self.by_key[programme.slug.casefold()] = programme
        self.member_ids = {p: {m.course_id for m in p.modules} for p in own}
        self.next_position = {p: max((m.position for m in p.modules), default=0) + 1 for p in own}
        self.touched: set[Programme] = set()

    def find(self, value: str) -> Programme | None:
        return self.by_key.get(value.casefold()) or self.by_key.get(match_key(value))

    def create(self, name: str, provider: Provider) -> Programme:
        slug = make_unique_slug(name, self.taken, fallback="programme")
        self.taken.add(slug)
        programme = Programme(slug=slug, name=name, description="", provider=provider)
        db.session.add(programme)
        self.by_key[match_key(name)] = self.by_key[slug] = programme
        self.member_ids[programme] = set()
        self.next_position[programme] = 1
        return programme

    def join(self, programme: Programme, course_id: int) -> dict[str, int]:
        """Record ``course_id`` as the next module; return the row to insert."""
        position = self.next_position[programme]
        self.next_position[programme] = position + 1
        self.member_ids[programme].add(course_id)
        self.touched.add(programme)
        return {"programme_id": programme.id, "course_id": course_id, "position": position}


class _Lookups:
    """Everything validation needs from the database, loaded once: the taxonomy, the provider's
    existing courses (with their tags) and programmes."""

    def __init__(self) -> None:
        self.terms: dict[str, dict[str, TermMixin]] = {}
        self.choices: dict[str, str] = {}
        self.steps_by_number: dict[int, Step] = {}
        self.courses: dict[str, Course] = {}
        self.programmes: _Programmes
        self.parsed: dict[tuple[str, str], dict[str, Any] | _Invalid] = {}

    @classmethod
    def load(cls, provider: Provider) -> _Lookups:
        lookups = cls()
        for kind, model in TERM_MODELS.items():
            terms = db.session.scalars(select(model).order_by(model.position, model.id)).all()
            lookups.terms[kind] = _term_keys(terms)
            lookups.choices[kind] = ", ".join(term.slug for term in terms)
            if model is Step:
                lookups.steps_by_number = {term.number: term for term in terms}
        if provider.id is not None:
            lookups.courses = {
                course.reference: course
                for course in db.session.scalars(
                    select(Course)
                    .where(Course.provider_id == provider.id)
                    .options(
                        selectinload(Course.sectors),
                        selectinload(Course.professions),
                        selectinload(Course.principles),
                        selectinload(Course.prerequisites),
                    )
                )
            }
        lookups.programmes = _Programmes(provider)
        return lookups

    def step(self, value: str) -> Step:
        if not value:
            raise _Invalid("is required, but the cell is empty.")
        number = _STEP_NUMBER.match(value.casefold())
        if number is not None:
            step = self.steps_by_number.get(int(number.group(1)))
            if step is None:
                raise _Invalid(f'"{value}" is not a step: steps are numbered 0 to 4.')
            return step
        step = self.terms["steps"].get(match_key(value))
        if step is None:
            raise _Invalid(
                f'"{value}" is not a step. Write a number from 0 to 4 or one of:'
                f" {self.choices['steps']}."
            )
        return step  # type: ignore[return-value]

    def one(self, column: str, value: str) -> TermMixin | None:
        if not value:
            return None
        kind, label = _ONE_KINDS[column]
        return self._term(kind, label, value)

    def many(self, column: str, value: str) -> list[TermMixin]:
        found: list[TermMixin] = []
        for part in value.split(";"):
            part = part.strip()
            if part:
                term = self._term(column, _TAG_KINDS[column], part)
                if term not in found:
                    found.append(term)
        return found

    def _term(self, kind: str, label: str, value: str) -> TermMixin:
        key = match_key(value)
        term = self.terms[kind].get(key)
        if term is not None:
            return term
        message = f'"{value}" is not a {label}.'
        suggestion = self._suggest(kind, key)
        if suggestion:
            message += f' Did you mean "{suggestion}"?'
        if kind in _TAG_KINDS and "," in value:
            message += ' Separate several values with ";".'
        raise _Invalid(f"{message} Choose from: {self.choices[kind]}.")

    def _suggest(self, kind: str, key: str) -> str | None:
        """The slug of the term ``key`` most looks like (a typo, or the start of a longer name)."""
        best, best_score = None, 0.0
        for candidate, term in self.terms[kind].items():
            score = difflib.SequenceMatcher(None, key, candidate).ratio()
            if len(key) >= 4:
                prefix = difflib.SequenceMatcher(None, key, candidate[: len(key)]).ratio()
                score = max(score, prefix)
            if score > best_score:
                best, best_score = term.slug, score
        return best if best_score >= 0.75 else None

    def check_programme(self, value: str) -> str | None:
        if not value:
            return None
        if len(value) > 300:
            raise _Invalid(f"is {len(value)} characters long; at most 300 are allowed.")
        # Only an exact slug counts: "Pathway" names a new programme even if "pathway" is taken.
        if self.programmes.find(value) is None and value in self.programmes.other_slugs:
            raise _Invalid(
                f'"{value}" is the slug of another provider\'s programme; a course can only be'
                " added to its own provider's programmes. Write a new programme name instead."
            )
        return value

    def compare(self, row: CourseRow) -> None:
        """Find the existing course ``row`` updates, and what would change."""
        course = self.courses.get(row.reference)
        row.course = course
        if course is None:
            return
        row.changes = {
            attribute: value
            for attribute, value in row.values.items()
            if _differs(course, attribute, value)
        }
        row.course_id = course.id
        if row.programme is not None:
            programme = self.programmes.find(row.programme)
            row.joins_programme = (
                programme is None or course.id not in self.programmes.member_ids[programme]
            )


def _term_keys(terms: list) -> dict[str, TermMixin]:
    """Map every loose spelling of each term (slug, name, name without its bracketed part) to it;
    a bracket-less name shared by two terms ("Online") matches neither."""
    keys: dict[str, TermMixin] = {}
    for term in terms:
        keys.setdefault(match_key(term.slug), term)
        keys.setdefault(match_key(term.name), term)
    shortened: dict[str, list[TermMixin]] = {}
    for term in terms:
        short = match_key(re.sub(r"\(.*?\)", " ", term.name))
        if short and short not in keys:
            shortened.setdefault(short, []).append(term)
    keys.update({short: found[0] for short, found in shortened.items() if len(found) == 1})
    return keys


def _differs(course: Course, attribute: str, value: Any) -> bool:
    if attribute in _TAG_KINDS:
        return {term.id for term in getattr(course, attribute)} != {term.id for term in value}
    if attribute in _TERM_ATTRIBUTES:
        return getattr(course, f"{attribute}_id") != (value.id if value is not None else None)
    return getattr(course, attribute) != value
