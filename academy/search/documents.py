"""Search documents read from plain rows: the few columns and term names a document needs.

``load_documents`` gives, for the public courses among some ids, the same documents as
``schema.course_document`` of the courses loaded through the ORM with their relationships, in
a handful of Core statements per chunk and without building model objects
(``tests/test_search_documents.py`` compares the two on a seeded catalogue).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Connection, select

from academy.catalogue.models import (
    Cohort,
    Course,
    Programme,
    ProgrammeModule,
    course_principles,
    course_professions,
    course_sectors,
)
from academy.catalogue.visibility import is_public
from academy.providers.models import Provider
from academy.search.schema import build_document
from academy.taxonomy.models import DeliveryMode, Principle, Profession, Region, Sector, Step

_COLUMNS = (
    Course.id,
    Course.title,
    Course.summary,
    Course.description,
    Course.who_its_for,
    Course.entry_requirements,
    Course.where_next,
    Course.reference,
    Course.credit_level,
    Course.published_at,
    Course.step_id,
    Course.delivery_mode_id,
    Course.region_id,
    Provider.name.label("provider_name"),
)

# link table, its term column, the term model: in the order a document lists them
_TAGS = (
    (course_sectors, course_sectors.c.sector_id, Sector),
    (course_professions, course_professions.c.profession_id, Profession),
    (course_principles, course_principles.c.principle_id, Principle),
)


class Terms:
    """Every taxonomy term's name by id, read once (the tables are small)."""

    def __init__(self, connection: Connection) -> None:
        self.names: dict[type, dict[int, str]] = {}
        self.order: dict[type, dict[int, tuple[int, int]]] = {}
        for model in (Step, Sector, Profession, Principle, DeliveryMode, Region):
            rows = connection.execute(select(model.id, model.name, model.position)).all()
            self.names[model] = {row.id: row.name for row in rows}
            self.order[model] = {row.id: (row.position, row.id) for row in rows}

    def tagged(self, model: type, ids: Iterable[int]) -> list[str]:
        """The names of ``ids`` by position, as the course's relationships list them."""
        order = self.order[model]
        return [self.names[model][i] for i in sorted(ids, key=order.__getitem__)]


def _grouped(connection: Connection, statement) -> dict[int, list]:
    found: dict[int, list] = defaultdict(list)
    for course_id, value in connection.execute(statement):
        found[course_id].append(value)
    return found


def load_documents(
    connection: Connection, ids: list[int], terms: Terms | None = None
) -> dict[int, dict[str, str]]:
    """The search documents of the public courses among ``ids`` (at most a few hundred: one
    ``IN`` list per statement), by course id; ids of hidden or missing courses are left out."""
    terms = terms or Terms(connection)
    courses = connection.execute(
        select(*_COLUMNS)
        .join(Provider, Provider.id == Course.provider_id)
        .where(Course.id.in_(ids), is_public())
    ).all()
    if not courses:
        return {}
    found = [row.id for row in courses]
    tags = [
        _grouped(connection, select(table.c.course_id, column).where(table.c.course_id.in_(found)))
        for table, column, _model in _TAGS
    ]
    programmes = _grouped(
        connection,
        select(ProgrammeModule.course_id, Programme.name)
        .join(Programme, Programme.id == ProgrammeModule.programme_id)
        .where(ProgrammeModule.course_id.in_(found))
        .order_by(ProgrammeModule.course_id, ProgrammeModule.programme_id),
    )
    locations = _grouped(
        connection,
        select(Cohort.course_id, Cohort.location)
        .where(Cohort.course_id.in_(found), Cohort.location.is_not(None))
        .order_by(Cohort.course_id, Cohort.id),
    )
    try:
        return _assemble(courses, tags, programmes, locations, terms)
    except KeyError:  # a term newer than ``terms`` (made while a rebuild ran): read them again
        return _assemble(courses, tags, programmes, locations, Terms(connection))


def _assemble(courses, tags, programmes, locations, terms: Terms) -> dict[int, dict[str, str]]:
    """The documents of ``courses`` from their rows and the rows of what they link to."""
    documents = {}
    for row in courses:
        taxonomy = [terms.names[Step][row.step_id]]
        for (_table, _column, model), by_course in zip(_TAGS, tags, strict=True):
            taxonomy += terms.tagged(model, by_course.get(row.id, ()))
        if row.delivery_mode_id is not None:
            taxonomy.append(terms.names[DeliveryMode][row.delivery_mode_id])
        if row.region_id is not None:
            taxonomy.append(terms.names[Region][row.region_id])
        taxonomy += programmes.get(row.id, [])
        places = [place for place in locations.get(row.id, []) if place]
        documents[row.id] = build_document(row, row.provider_name, taxonomy, places)
    return documents
