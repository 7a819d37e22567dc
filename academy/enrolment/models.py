"""A learner's place (or wait, or request) in a cohort."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.accounts.models import User
from academy.catalogue.models import Cohort, CohortSession
from academy.db_types import UTCDateTime, utcnow
from academy.enrolment import states
from academy.extensions import db

#: The states of a place and the moves between them are in ``academy.enrolment.states``.
STATUSES = tuple(states.STATES)
#: a learner in one of these may not start again on the same cohort
ACTIVE_STATUSES = states.BLOCKING


class Enrolment(db.Model):
    """One learner in one cohort: a single row per pair, whatever happens to it over time."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("user_id", "cohort_id", name="uq_enrolments_user_cohort"),
        CheckConstraint(
            "status IN ('enrolled', 'waitlisted', 'requested', 'declined', 'withdrawn',"
            " 'completed', 'not_completed', 'cancelled')",
            name="status_valid",
        ),
        Index("ix_enrolments_cohort_status", "cohort_id", "status", "queued_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    #: when the learner joined the waitlist (or asked): the waitlist is served in this order
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    access_needs: Mapped[str] = mapped_column(Text, default="")
    request_reason: Mapped[str] = mapped_column(Text, default="")
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the provider marked the learner as having attended
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_message: Mapped[str] = mapped_column(Text, default="", server_default="")
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the provider last marked completed or not completed (the undo window runs from it)
    marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    cohort: Mapped[Cohort] = relationship()

    def __repr__(self) -> str:
        return f"<Enrolment {self.id} {self.status}>"


@event.listens_for(CohortSession, "before_update")
def _raise_sequence(mapper, connection, target: CohortSession) -> None:
    """Raise a session's iCalendar SEQUENCE whenever its dates change, whoever changes them, so
    calendar apps replace the old event (RFC 5545 3.8.7.4)."""
    state = inspect(target)
    if state.attrs.starts_at.history.has_changes() or state.attrs.ends_at.history.has_changes():
        target.sequence = (target.sequence or 0) + 1
