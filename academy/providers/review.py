"""What a curator reads on a course's review page (and a provider sees waiting for it): the
listing's fields, or what a pending edit changes on the live version, or what changed since
the last approval, in the words the public page uses rather than as stored values.

Pure functions over two snapshots (``providers.courses.snapshot``: names for taxonomy terms,
titles for prerequisites), so the page, and any later export of a review, share one answer.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from academy.catalogue.models import Course
from academy.formatting import format_cost, format_hours
from academy.providers.courses import EDITABLE, diff, label, review_pair

#: free text a provider writes in paragraphs: shown with its line breaks, compared word by word
LONG_TEXT = frozenset({"summary", "description", "who_its_for", "entry_requirements", "where_next"})
#: a course with no sectors or professions is open to all of them (docs/architecture.md)
OPEN_TO_ALL = frozenset({"sectors", "professions"})
HOURS = frozenset({"duration_hours", "cpd_hours"})
#: the cost is one thing to a reader, stored as two fields
COST = ("cost_type", "fee_pence")
#: beyond this many word pairs in one changed passage, the passage is marked as a whole
#: (difflib is quadratic, and a whole-passage mark is still correct)
WORD_DIFF_LIMIT = 250_000

_WORDS = re.compile(r"\s*\S+\s*|\s+")


@dataclass(frozen=True)
class Piece:
    """A run of a shown value; ``changed`` runs are the words removed (before) or added (now)."""

    text: str
    changed: bool = False


@dataclass(frozen=True)
class ReviewRow:
    """One field as the curator sees it. ``before`` is None on a first review (nothing was
    approved); ``long`` text keeps its line breaks."""

    field: str
    label: str
    before: tuple[Piece, ...] | None
    now: tuple[Piece, ...]
    long: bool = False


def review_rows(course: Course) -> list[ReviewRow]:
    """The rows of ``course``'s review, in the editor's order: a published course's pending
    edit against the live version; otherwise every field of a listing never approved, or the
    fields that differ from its last approval (``providers.courses.review_pair``)."""
    before, after = review_pair(course)
    return rows_between(before, after)


def rows_between(approved: dict[str, Any] | None, now: dict[str, Any]) -> list[ReviewRow]:
    """Rows for the fields that differ between two snapshots (all of them when ``approved`` is
    None). The cost type and fee make one "Cost" row, written as the public page writes it."""
    changed = set(diff(approved, now))
    if changed & set(COST):
        changed.add("cost_type")  # the one row stands where the cost type is
    rows = []
    for name in EDITABLE:
        if name not in changed or name == "fee_pence":
            continue
        before = None if approved is None else _shown(name, approved)
        after = _shown(name, now)
        long = name in LONG_TEXT
        if long and approved is not None and approved.get(name) and now.get(name):
            old, new = word_changes(approved[name], now[name])
        else:
            old = None if before is None else (Piece(before),)
            new = (Piece(after),)
        rows.append(ReviewRow(name, label(name), old, new, long))
    return rows


def _shown(name: str, values: dict[str, Any]) -> str:
    """One field of a snapshot in words: names, not codes; "Not given" rather than a blank."""
    value = values.get(name)
    if name == "cost_type":
        cost = SimpleNamespace(cost_type=value or "free", fee_pence=values.get("fee_pence"))
        return format_cost(cost)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        if value:
            return ", ".join(value)
        return "Open to all" if name in OPEN_TO_ALL else "None"
    if value is None or value == "":
        return "Not given"
    if name in HOURS:
        return format_hours(float(value))
    return str(value)


def word_changes(before: str, after: str) -> tuple[tuple[Piece, ...], tuple[Piece, ...]]:
    """Both texts cut into pieces, marking the words removed from ``before`` and added in
    ``after``. Joining each side's pieces gives back its text exactly, line breaks included.

    Lines are matched first and words only within lines that changed, so a long description
    with one edited paragraph costs little.
    """
    old: list[Piece] = []
    new: list[Piece] = []
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    lines = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in lines.get_opcodes():
        was, now = "".join(a[i1:i2]), "".join(b[j1:j2])
        if tag == "equal":
            old.append(Piece(was))
            new.append(Piece(now))
        elif tag == "replace":
            words_old, words_new = _word_pieces(was, now)
            old.extend(words_old)
            new.extend(words_new)
        else:
            old.extend([Piece(was, True)] if was else [])
            new.extend([Piece(now, True)] if now else [])
    return _merged(old), _merged(new)


def _word_pieces(before: str, after: str) -> tuple[list[Piece], list[Piece]]:
    a, b = _WORDS.findall(before), _WORDS.findall(after)
    if len(a) * len(b) > WORD_DIFF_LIMIT:
        return [Piece(before, True)], [Piece(after, True)]
    # compare words without the spaces around them, so a moved line break is not a change
    words = difflib.SequenceMatcher(
        a=[w.strip() for w in a], b=[w.strip() for w in b], autojunk=False
    )
    old: list[Piece] = []
    new: list[Piece] = []
    for tag, i1, i2, j1, j2 in words.get_opcodes():
        changed = tag != "equal"
        if i2 > i1:
            old.append(Piece("".join(a[i1:i2]), changed))
        if j2 > j1:
            new.append(Piece("".join(b[j1:j2]), changed))
    return old, new


def _merged(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Neighbouring pieces of the same kind as one, so the page marks whole phrases."""
    out: list[Piece] = []
    for piece in pieces:
        if out and out[-1].changed == piece.changed:
            out[-1] = Piece(out[-1].text + piece.text, piece.changed)
        else:
            out.append(piece)
    return tuple(out)
