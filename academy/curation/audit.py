"""Writing the audit log. Every curator action and every provider edit calls :func:`record`."""

from __future__ import annotations

import json
from typing import Any

from academy.accounts.models import User
from academy.catalogue.models import Course
from academy.curation.models import AuditEntry
from academy.extensions import db
from academy.providers.models import Provider


def record(
    actor: User | None,
    action: str,
    summary: str,
    *,
    provider: Provider | None = None,
    course: Course | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one audit entry in the caller's transaction (flushes, never commits).

    A course implies its provider, so filtering the log by provider finds course actions too.
    """
    if course is not None and provider is None:
        provider = course.provider
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor_name=actor.name if actor is not None else "",
        action=action,
        provider_id=provider.id if provider is not None else None,
        course_id=course.id if course is not None else None,
        summary=summary,
        detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else "",
    )
    db.session.add(entry)
    db.session.flush()
    return entry
