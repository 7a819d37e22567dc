"""Comprehensive Learner Record 2.0: one signed ``ClrCredential`` with the learner's verified
achievements.

What it holds (``build_clr``):
- ``achievement``: one Achievement per verified, not withdrawn entry (the same id as in its
  badge), plus one per programme that any of those courses is a module of;
- ``verifiableCredential``: the Open Badges credential of each of those entries (issued now if
  the entry had none);
- ``association``: ``precedes`` from an achievement to one on the next escalator step, and
  from a course to a course that lists it as a prerequisite; ``isPartOf`` from a module to its
  programme.

Self-recorded entries are left out: the Academy signs the CLR as issuer and can vouch only for
what a provider confirmed (they are in the learner's PDF, CSV and JSON exports). An entry whose
credential the learner revoked is left out too, until they issue a new one.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from academy.accounts.models import User
from academy.catalogue.models import Course, ProgrammeModule
from academy.credentials import jws, keys, openbadges
from academy.credentials.urls import absolute
from academy.db_types import utcnow
from academy.extensions import db
from academy.portfolio.common import entries_for
from academy.portfolio.models import IssuedCredential, LearningRecordEntry

CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
CLR_SCHEMA = (
    "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
)


def _courses(entries: list[LearningRecordEntry]) -> dict[int, Course]:
    ids = {e.course_id for e in entries if e.course_id is not None}
    if not ids:
        return {}
    query = (
        select(Course)
        .where(Course.id.in_(ids))
        .options(
            selectinload(Course.step),
            selectinload(Course.provider),
            selectinload(Course.prerequisites),
            selectinload(Course.programme_modules).selectinload(ProgrammeModule.programme),
        )
    )
    return {course.id: course for course in db.session.scalars(query)}


def clr_entries(user: User) -> list[tuple[LearningRecordEntry, IssuedCredential | None]]:
    """The entries a CLR covers (verified, not withdrawn, not revoked by the learner), each
    with its live credential if it has one. Three queries."""
    by_entry = {c.entry_id: c for c in openbadges.credentials_of(user) if c.entry_id is not None}
    covered = []
    for entry in entries_for(user, include_withdrawn=False):
        credential = by_entry.get(entry.id)
        if openbadges.is_eligible(entry) and (credential is None or credential.revoked_at is None):
            covered.append((entry, credential))
    return covered


def build_clr(user: User) -> dict:
    """The unsigned ClrCredential for ``user`` (see the module docstring). Issues the badge of
    any covered entry that has none (flushes; the caller commits)."""
    covered = clr_entries(user)
    courses = _courses([entry for entry, _ in covered])
    achievements: dict[str, dict] = {}
    badges = []
    for entry, credential in covered:
        course = courses.get(entry.course_id) if entry.course_id else None
        achievements.setdefault(
            openbadges.achievement_id(entry, course), openbadges.achievement(entry, course)
        )
        if credential is None:
            credential = openbadges.issue(user, entry)
        badges.append(credential.signed)
    keyring = keys.keys_by_id()
    subject = {
        "type": ["ClrSubject"],
        "identifier": openbadges.identifiers(user, uuid.uuid4().hex[:16]),
        "achievement": [],
        "verifiableCredential": [jws.read_trusted(token, keyring) for token in badges],
    }
    associations = _associations(courses, achievements)
    subject["achievement"] = list(achievements.values())
    if associations:
        subject["association"] = associations
    return {
        "@context": [openbadges.VC_CONTEXT, CLR_CONTEXT, openbadges.OB_CONTEXT],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": openbadges.issuer_profile(),
        "name": f"Comprehensive Learner Record for {user.name}",
        "description": (
            "The learning a provider confirmed to the Relational Learning Academy, with how "
            "each course sits on the training escalator."
        ),
        "validFrom": openbadges.iso(utcnow()),
        "credentialSubject": subject,
        "credentialSchema": [{"id": CLR_SCHEMA, "type": openbadges.SCHEMA_VALIDATOR}],
    }


def _associations(courses: dict[int, Course], achievements: dict[str, dict]) -> list[dict]:
    """How the learnt courses relate: a step precedes the next, a prerequisite precedes what
    needs it, a module is part of its programme (whose achievement is added to ``achievements``).
    Sorted, so the same record always reads the same."""
    by_step: dict[int, list[Course]] = {}
    for course in courses.values():
        by_step.setdefault(course.step.number, []).append(course)
    pairs: set[tuple[str, str, str]] = set()
    for course in courses.values():
        source = absolute("catalogue.course_detail", slug=course.slug)
        for later in by_step.get(course.step.number + 1, []):
            pairs.add(("precedes", source, absolute("catalogue.course_detail", slug=later.slug)))
        for required in course.prerequisites:
            if required.id in courses:
                target = absolute("catalogue.course_detail", slug=required.slug)
                pairs.add(("precedes", target, source))
        for module in course.programme_modules:
            programme_id = absolute("catalogue.programme_detail", slug=module.programme.slug)
            achievements.setdefault(programme_id, _programme_achievement(module.programme))
            pairs.add(("isPartOf", source, programme_id))
    return [
        {"type": "Association", "associationType": kind, "sourceId": source, "targetId": target}
        for kind, source, target in sorted(pairs)
    ]


def _programme_achievement(programme) -> dict:
    """The Achievement a programme stands for in the record."""
    programme_id = absolute("catalogue.programme_detail", slug=programme.slug)
    return {
        "id": programme_id,
        "type": ["Achievement"],
        "achievementType": "ext:Programme",
        "name": programme.name,
        "description": programme.description or f"The {programme.name} programme.",
        "criteria": {
            "narrative": f"Complete the {len(programme.modules)} modules of "
            f"{programme.name}; each module is a course of its own."
        },
    }


def signed_clr(user: User) -> str | None:
    """``build_clr(user)`` signed as a VC-JWT with the newest key, or None when the learner has
    no verified entry (a ClrSubject must hold at least one credential)."""
    if not clr_entries(user):
        return None
    token, _ = jws.sign(build_clr(user))
    return token
