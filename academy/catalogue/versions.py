"""Versions of a course's listing: its live columns (what the public reads), its pending edit
and its last approval, as plain values that can be stored (JSON), compared and shown.

The *encoded* form (:func:`encode`) holds taxonomy terms and courses by id, so a curator's
rename never looks like a change of the course; the *snapshot* form (:func:`snapshot`,
:func:`named`) holds today's names, for people to read. Which state keeps which version is
``academy.catalogue.states``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from academy.catalogue.models import Course
from academy.catalogue.states import REVIEWED_FIELDS, UNREVIEWED_FIELDS
from academy.extensions import db
from academy.taxonomy.models import DeliveryMode, Principle, Profession, Region, Sector, Step

#: the fields the editor sets, in the order the review diff shows them (which of them wait
#: for review is ``states``' business)
EDITABLE = (*UNREVIEWED_FIELDS, *REVIEWED_FIELDS)
_TERMS = ("step", "delivery_mode", "region")
_LISTS = ("sectors", "professions", "principles", "prerequisites")
#: the fields holding one term, and those holding a list of terms or courses (public names)
TERM_FIELDS, LIST_FIELDS = _TERMS, _LISTS
#: the model each term or list field names (prerequisites are courses)
TERM_MODELS = _TERM_MODELS = {
    "step": Step,
    "delivery_mode": DeliveryMode,
    "region": Region,
    "sectors": Sector,
    "professions": Profession,
    "principles": Principle,
    "prerequisites": Course,
}


def snapshot(course: Course) -> dict[str, Any]:
    """The editable fields as plain values (names for terms): what curators compare."""
    values: dict[str, Any] = {}
    for name in EDITABLE:
        value = getattr(course, name)
        if name in _TERMS:
            value = value.name if value is not None else None
        elif name in _LISTS:
            value = sorted(item.title if name == "prerequisites" else item.name for item in value)
        values[name] = value
    return values


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, list]:
    """``{field: [before, after]}`` for the fields that differ (everything when no before)."""
    before = before or {}
    return {
        name: [before.get(name), after.get(name)]
        for name in EDITABLE
        if before.get(name) != after.get(name)
    }


def _editable(values: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """``(name, value)`` for each editable field ``values`` has, in ``EDITABLE``'s order."""
    return ((name, values[name]) for name in EDITABLE if name in values)


def encode(values: dict[str, Any]) -> dict[str, Any]:
    """Model values (terms and courses as objects) as JSON-able values: ids for terms and
    courses, sorted id lists, no fee unless the cost is a fee. Two encodings are equal exactly
    when the listings are."""
    out: dict[str, Any] = {}
    for name, value in _editable(values):
        if name in _TERMS:
            value = value.id if value is not None else None
        elif name in _LISTS:
            value = sorted(item.id for item in value)
        out[name] = value
    if out.get("cost_type", "fee") != "fee":
        out["fee_pence"] = None
    return out


def encoded(course: Course) -> dict[str, Any]:
    """``course``'s live listing, encoded (:func:`encode`)."""
    return encode({name: getattr(course, name) for name in EDITABLE})


def _lookup(data: dict[str, Any]) -> dict[str, dict[int, Any]]:
    """The terms and courses ``data`` names, by id: one query per kind it uses."""
    found: dict[str, dict[int, Any]] = {}
    for name, model in _TERM_MODELS.items():
        value = data.get(name)
        ids = [value] if isinstance(value, int) else value if isinstance(value, list) else []
        ids = [i for i in ids if isinstance(i, int)]
        found[name] = (
            {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}
            if ids
            else {}
        )
    return found


def decode(data: dict[str, Any]) -> dict[str, Any]:
    """Encoded values back as model values (terms and courses as objects). A term or course
    that no longer exists is left out of a list (or kept as it is, for a single term)."""
    rows = _lookup(data)
    values: dict[str, Any] = {}
    for name, value in _editable(data):
        if name in _TERMS:
            if value is None:
                values[name] = None
            elif value in rows[name]:
                values[name] = rows[name][value]
            continue
        if name in _LISTS:
            value = [rows[name][i] for i in value if i in rows[name]]
        values[name] = value
    return values


def named(data: dict[str, Any], rows: dict[str, dict[int, Any]] | None = None) -> dict[str, Any]:
    """Encoded values as a :func:`snapshot` shows them (names for terms, titles for courses),
    with today's names, so a curator's rename is never seen as the provider's change. Names
    already (an approval recorded before ids were kept) are shown as they are. ``rows`` (by
    kind, then id: anything with a ``name``, or a ``title`` for courses) spares the queries
    when the caller has read them already; an id not in it reads as no longer listed."""
    rows = _lookup(data) if rows is None else rows

    def shown(name: str, item: Any) -> Any:
        if not isinstance(item, int) or isinstance(item, bool):
            return item
        row = rows.get(name, {}).get(item)
        if row is None:
            return "(no longer listed)"
        return row.title if name == "prerequisites" else row.name

    values: dict[str, Any] = {}
    for name in EDITABLE:
        value = data.get(name)
        if name in _TERMS:
            value = shown(name, value) if value is not None else None
        elif name in _LISTS:
            value = sorted(shown(name, item) for item in value or [])
        values[name] = value
    return values


def pending(course: Course) -> dict[str, Any] | None:
    """The pending edit of a published course, encoded; None when there is none."""
    return json.loads(course.pending_edit) if course.pending_edit else None


def approved(course: Course) -> dict[str, Any] | None:
    """The listing as last approved, encoded (or by names, if approved before ids were kept)."""
    return json.loads(course.approved_snapshot) if course.approved_snapshot else None


def review_pair(course: Course) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``(before, after)`` as snapshots: what a curator compares, and a provider sees waiting.

    A published course's pending edit against its live version; otherwise the listing against
    its last approval (``before`` is None when it was never approved)."""
    edit = pending(course)
    if edit is not None:
        return snapshot(course), named({**encoded(course), **edit})
    last = approved(course)
    return (named(last) if last is not None else None), snapshot(course)


def changes_since_approval(course: Course) -> dict[str, list]:
    """What the review would change: the pending edit against the live version, or the
    listing against its last approval (all fields for a never-approved one)."""
    before, after = review_pair(course)
    return diff(before, after)
