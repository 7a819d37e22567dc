"""The audit log, on the ground floor: who did what, when, to which provider and course.

Every domain records its actions here with :func:`record`; only curators read the log
(``academy/curation``). The model names other domains' tables by foreign key only, so this module
imports nothing above the ground floor.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.db_types import UTCDateTime, utcnow
from academy.extensions import db

if TYPE_CHECKING:  # type hints only: the ground floor imports no domain at run time
    from academy.accounts.models import User
    from academy.catalogue.models import Course
    from academy.providers.models import Provider


class AuditEntry(db.Model):
    """One action by a curator or a provider's staff member. Rows are only ever added.

    ``actor_name`` is copied so that the log still reads correctly after an account is deleted;
    ``detail`` holds JSON (for an edit: ``{field: [before, after]}``).
    """

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_name: Mapped[str] = mapped_column(String(120), default="")
    action: Mapped[str] = mapped_column(String(60))
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("providers.id", ondelete="SET NULL"), index=True
    )
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), index=True
    )
    summary: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship("User")


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
