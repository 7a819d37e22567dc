"""What a taxonomy change does to courses: catalogue owns the course rows and their tags, so
curation (which checks who may merge and records it) calls :func:`move_term`."""

from __future__ import annotations

import json

from sqlalchemy import delete, insert, select, update

from academy.catalogue.models import TAG_TABLES, Course
from academy.extensions import db

#: the taxonomy kinds a course holds one of, and the course attribute that holds it
SINGLE_TERMS = {"delivery_modes": "delivery_mode", "regions": "region"}


def move_term(kind: str, term_id: int, into_id: int) -> set[int]:
    """Give every course tagged with term ``term_id`` of ``kind`` the term ``into_id`` instead
    (a course with both keeps one), and do the same in every pending edit that names it.
    Returns the ids of the live courses moved. Works in set-based statements that bypass the
    session's loaded courses, then expires them; flushes what it changed."""
    if kind in TAG_TABLES:
        table, column_name = TAG_TABLES[kind]
        column = table.c[column_name]
        having = set(db.session.scalars(select(table.c.course_id).where(column == term_id)))
        already = set(db.session.scalars(select(table.c.course_id).where(column == into_id)))
        if having - already:
            db.session.execute(
                insert(table),
                [{"course_id": cid, column.key: into_id} for cid in sorted(having - already)],
            )
        db.session.execute(delete(table).where(column == term_id))
        moved = having
    else:
        attribute = getattr(Course, f"{SINGLE_TERMS[kind]}_id")
        moved = set(db.session.scalars(select(Course.id).where(attribute == term_id)))
        db.session.execute(
            update(Course).where(attribute == term_id).values({attribute: into_id}),
            execution_options={"synchronize_session": False},
        )
    _move_in_pending_edits(SINGLE_TERMS.get(kind, kind), term_id, into_id)
    db.session.flush()
    db.session.expire_all()  # the bulk statements above bypassed the loaded courses
    return moved


def _move_in_pending_edits(field: str, term_id: int, into_id: int) -> None:
    """Every pending edit whose ``field`` names ``term_id`` names ``into_id`` instead."""
    for course in db.session.scalars(select(Course).where(Course.pending_edit.is_not(None))):
        edit = json.loads(course.pending_edit)
        value = edit.get(field)
        if isinstance(value, list) and term_id in value:
            edit[field] = sorted({into_id if v == term_id else v for v in value})
        elif value == term_id:
            edit[field] = into_id
        else:
            continue
        course.pending_edit = json.dumps(edit, sort_keys=True)
