"""Which optional mail each person receives: :data:`OPTIONAL` lists the choices (with who they
are for and whether they are on until changed); :func:`wants` is asked before optional mail is
queued. Mail that is part of an act the person started (confirmations, invitations, places,
session changes) is not optional and never asked about.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from academy.extensions import db
from academy.mail.models import MailPreference


@dataclass(frozen=True)
class MailKind:
    key: str
    label: str
    #: who it concerns: "everyone", "provider" (organisation staff) or "curator"
    audience: str
    default: bool = True


OPTIONAL: dict[str, MailKind] = {
    kind.key: kind
    for kind in (
        MailKind(
            "completions",
            "When a provider records (or withdraws) your completion of a course",
            "everyone",
        ),
        MailKind(
            "provider_updates",
            "When your organisation is verified, and the curators' decisions on its courses"
            " (with their reasons)",
            "provider",
        ),
        MailKind(
            "new_organisations",
            "Each new organisation that asks to list courses (curators)",
            "curator",
        ),
        MailKind(
            "submission_each",
            "Each course as it is submitted for review (curators)",
            "curator",
            default=False,
        ),
        MailKind(
            "submission_digest",
            "A daily digest of the courses waiting for review (curators)",
            "curator",
        ),
    )
}


def wants(user: Any, kind: str) -> bool:
    """Whether ``user`` receives mail of ``kind``: always, for a kind that is not optional;
    otherwise their choice, or the kind's default if they never chose."""
    if kind not in OPTIONAL:
        return True
    choice = db.session.scalar(
        select(MailPreference.wanted).where(
            MailPreference.user_id == user.id, MailPreference.kind == kind
        )
    )
    return OPTIONAL[kind].default if choice is None else choice


def wanting(users: Iterable[Any], kind: str) -> list[Any]:
    """Those of ``users`` who receive mail of ``kind`` (one query, whatever their number)."""
    users = list(users)
    if kind not in OPTIONAL or not users:
        return users
    choices = dict(
        db.session.execute(
            select(MailPreference.user_id, MailPreference.wanted).where(
                MailPreference.kind == kind,
                MailPreference.user_id.in_([u.id for u in users]),
            )
        ).all()
    )
    default = OPTIONAL[kind].default
    return [u for u in users if choices.get(u.id, default)]


def choices_of(user: Any) -> dict[str, bool]:
    """``{kind: wanted}`` for every optional kind."""
    chosen = dict(
        db.session.execute(
            select(MailPreference.kind, MailPreference.wanted).where(
                MailPreference.user_id == user.id
            )
        ).all()
    )
    return {key: chosen.get(key, kind.default) for key, kind in OPTIONAL.items()}


def choose(user: Any, wanted: dict[str, bool]) -> None:
    """Record ``user``'s choices for the kinds in ``wanted`` (unknown kinds are ignored);
    flushes."""
    current = {
        p.kind: p
        for p in db.session.scalars(select(MailPreference).where(MailPreference.user_id == user.id))
    }
    for key, value in wanted.items():
        if key not in OPTIONAL:
            continue
        if key in current:
            current[key].wanted = bool(value)
        else:
            db.session.add(MailPreference(user_id=user.id, kind=key, wanted=bool(value)))
    db.session.flush()
