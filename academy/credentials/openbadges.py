"""Open Badges 3.0: an ``OpenBadgeCredential`` for a verified portfolio entry, the issuer
Profile, issuing, and revoking.

What a credential says (see ``build_credential``): the Academy (the issuer Profile, with an
``id`` URL) certifies that the learner (a salted SHA-256 of their email address, and their name)
achieved the course (its id, name, description, criteria narrative, provider and escalator
step) on the completion date the provider confirmed. Its ``credentialStatus`` points to a public
revocation list for that credential.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from academy.accounts.models import User
from academy.catalogue.models import Course
from academy.credentials import jws
from academy.credentials.urls import absolute, issuer_id
from academy.db_types import utcnow
from academy.extensions import db
from academy.portfolio.models import METHODS, IssuedCredential, LearningRecordEntry
from academy.unit_of_work import DomainError

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)
SCHEMA_VALIDATOR = "1EdTechJsonSchemaValidator2019"
ACADEMY_NAME = "Relational Learning Academy"
REASON_MAX = 200


class CredentialError(DomainError):
    """A credential cannot be issued or changed; ``message`` says why, for the learner."""


def iso(moment: datetime) -> str:
    """A UTC date-time as ``YYYY-MM-DDThh:mm:ssZ``."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def issuer_profile() -> dict:
    """The Academy's issuer Profile (what ``/credentials/issuer`` serves, without @context)."""
    return {
        "id": issuer_id(),
        "type": ["Profile"],
        "name": ACADEMY_NAME,
        "url": absolute("main.home"),
        "description": (
            "The Relational Learning Academy gathers good-quality relational-practice training "
            "on one escalator and records what learners complete."
        ),
    }


def is_eligible(entry: LearningRecordEntry) -> bool:
    """Only a provider-verified entry that has not been withdrawn can have a credential."""
    return entry.verified and entry.withdrawn_at is None


def achievement_id(entry: LearningRecordEntry, course: Course | None) -> str:
    """The achievement's id: the course's public page, or (no course any more) a stable
    ``urn:uuid`` made from the entry's title and provider."""
    if course is not None:
        return absolute("catalogue.course_detail", slug=course.slug)
    name = f"academy-achievement:{entry.provider_name}:{entry.title}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def step_alignment(course: Course) -> dict:
    """An Alignment that places the achievement on the training escalator."""
    step = course.step
    return {
        "type": ["Alignment"],
        "targetName": f"Escalator step {step.number}: {step.name}",
        "targetUrl": absolute("main.escalator") + f"#step-{step.slug}",
        "targetCode": step.slug,
        "targetFramework": "Relational Learning Academy training escalator",
        "targetType": "ext:EscalatorStep",
    }


def achievement(entry: LearningRecordEntry, course: Course | None) -> dict:
    """The Achievement an entry stands for (the same id in the badge and in the CLR)."""
    description = (course.summary if course is not None else "") or (
        f"{entry.title}, a course by {entry.provider_name or 'a provider'}."
    )
    hours = f" ({entry.hours:g} hours)" if entry.hours else ""
    data = {
        "id": achievement_id(entry, course),
        "type": ["Achievement"],
        "achievementType": "Course",
        "name": entry.title,
        "description": description,
        "criteria": {
            "narrative": (
                f"Completed {entry.title}{hours} with {entry.provider_name or 'the provider'}; "
                "the provider confirmed the completion to the Academy."
            )
        },
    }
    if course is not None:
        data["alignment"] = [step_alignment(course)]
        data["creator"] = {
            "id": absolute("providers.provider_detail", slug=course.provider.slug),
            "type": ["Profile"],
            "name": course.provider.name,
        }
        if course.credits:
            data["creditsAvailable"] = float(course.credits)
    if entry.method:
        data["tag"] = [METHODS.get(entry.method, entry.method)]
    return data


def identifiers(user: User, salt: str) -> list[dict]:
    """The learner as OB 3.0 IdentityObjects: a salted SHA-256 of the email, and the name."""
    digest = hashlib.sha256((user.email.lower() + salt).encode()).hexdigest()
    return [
        {
            "type": "IdentityObject",
            "hashed": True,
            "identityHash": f"sha256${digest}",
            "identityType": "emailAddress",
            "salt": salt,
        },
        {
            "type": "IdentityObject",
            "hashed": False,
            "identityHash": user.name,
            "identityType": "name",
        },
    ]


def build_credential(
    entry: LearningRecordEntry, course: Course | None, user: User, public_id: str, now: datetime
) -> dict:
    """The unsigned OpenBadgeCredential for ``entry`` (see the module docstring)."""
    subject = {
        "type": ["AchievementSubject"],
        "identifier": identifiers(user, secrets.token_hex(8)),
        "achievement": achievement(entry, course),
        "activityEndDate": iso(entry.completed_at),
    }
    if entry.started_on:
        start = datetime(
            entry.started_on.year, entry.started_on.month, entry.started_on.day, tzinfo=UTC
        )
        subject["activityStartDate"] = iso(start)
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{public_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(),
        "validFrom": iso(now),
        "name": entry.title,
        "description": f"{user.name} completed {entry.title}.",
        "credentialSubject": subject,
        "credentialStatus": {
            "id": absolute("credentials.status", public_id=public_id),
            "type": "1EdTechRevocationList",
        },
        "credentialSchema": [{"id": OB_SCHEMA, "type": SCHEMA_VALIDATOR}],
    }


def course_of(entry: LearningRecordEntry) -> Course | None:
    if entry.course_id is None:
        return None
    return db.session.scalar(
        select(Course)
        .where(Course.id == entry.course_id)
        .options(selectinload(Course.step), selectinload(Course.provider))
    )


def credentials_of(user: User) -> list[IssuedCredential]:
    """Every credential issued to ``user``, newest first (one query)."""
    return db.session.scalars(
        select(IssuedCredential)
        .where(IssuedCredential.user_id == user.id)
        .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id.desc())
    ).all()


def get_own_credential(user: User, public_id: str) -> IssuedCredential | None:
    """``user``'s credential ``public_id``, or None (someone else's looks the same as none)."""
    return db.session.scalar(
        select(IssuedCredential).where(
            IssuedCredential.public_id == public_id, IssuedCredential.user_id == user.id
        )
    )


def issue(user: User, entry: LearningRecordEntry) -> IssuedCredential:
    """The live credential for ``entry``, issued (signed with the newest key) if it has none.

    Issuing again after a revocation makes a new credential; the revoked one keeps reporting
    revoked. :raise CredentialError: the entry is not the learner's, not verified, or withdrawn.
    """
    if entry.user_id != user.id or not is_eligible(entry):
        raise CredentialError(
            "Only an entry a provider verified, and has not withdrawn, can have a credential."
        )
    existing = db.session.scalar(
        select(IssuedCredential).where(IssuedCredential.entry_id == entry.id)
    )
    if existing is not None and existing.revoked_at is None:
        return existing
    if existing is not None:
        existing.entry_id = None  # the unique link moves to the new credential
        db.session.flush()
    now = utcnow()
    public_id = str(uuid.uuid4())
    token, kid = jws.sign(build_credential(entry, course_of(entry), user, public_id, now))
    credential = IssuedCredential(
        public_id=public_id,
        user_id=user.id,
        entry_id=entry.id,
        key_id=kid,
        issued_at=now,
        signed=token,
    )
    db.session.add(credential)
    db.session.flush()
    return credential


def revoke(credential: IssuedCredential, reason: str) -> bool:
    """Revoke ``credential`` (for good) with ``reason``; False if it already was revoked."""
    if credential.revoked_at is not None:
        return False
    credential.revoked_at = utcnow()
    credential.revocation_reason = (reason.strip() or "Revoked.")[:REASON_MAX]
    db.session.flush()
    return True


def revoke_for_entry(entry: LearningRecordEntry, reason: str) -> int:
    """Revoke every live credential for ``entry`` (a provider withdrew the completion); returns
    how many were revoked. One UPDATE, in the caller's transaction."""
    if entry.id is None:
        return 0
    result = db.session.execute(
        update(IssuedCredential)
        .where(IssuedCredential.entry_id == entry.id, IssuedCredential.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revocation_reason=(reason.strip() or "Withdrawn.")[:200])
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def find(public_id: str) -> IssuedCredential | None:
    """The credential with ``public_id`` (anyone's: for the public pages), or None."""
    try:
        if str(uuid.UUID(public_id)) != public_id:
            return None
    except ValueError:
        return None
    return db.session.scalar(
        select(IssuedCredential).where(IssuedCredential.public_id == public_id)
    )
