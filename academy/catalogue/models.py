"""Courses, prerequisites (the escalator graph), programmes, cohorts and their dated sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    false as sa_false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.catalogue import states
from academy.db_types import UTCDateTime, utcnow
from academy.extensions import db
from academy.providers.models import Provider
from academy.taxonomy.models import DeliveryMode, Principle, Profession, Region, Sector, Step

COURSE_STATUSES = ("draft", "submitted", "published", "rejected", "archived")
COST_TYPES = ("free", "funded", "fee")


def _tag_table(name: str, target: str) -> Table:
    return Table(
        name,
        db.metadata,
        Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
        Column(f"{target}_id", ForeignKey(f"{target}s.id", ondelete="CASCADE"), primary_key=True),
    )


course_sectors = _tag_table("course_sectors", "sector")
course_professions = _tag_table("course_professions", "profession")
course_principles = _tag_table("course_principles", "principle")
#: each list of terms a course is tagged with: its link table and that table's term column
TAG_TABLES: dict[str, tuple[Table, str]] = {
    "sectors": (course_sectors, "sector_id"),
    "professions": (course_professions, "profession_id"),
    "principles": (course_principles, "principle_id"),
}

course_prerequisites = Table(
    "course_prerequisites",
    db.metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("required_course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    CheckConstraint("course_id <> required_course_id", name="not_self"),
)


class Course(db.Model):
    """A listed course: one rung-placed piece of training offered by one provider.

    Empty ``sectors`` or ``professions`` mean the course is open to all of them.
    """

    __tablename__ = "courses"
    __table_args__ = (
        UniqueConstraint("provider_id", "reference", name="uq_courses_provider_reference"),
        CheckConstraint(
            "status IN ('draft', 'submitted', 'published', 'rejected', 'archived')",
            name="status_valid",
        ),
        CheckConstraint("cost_type IN ('free', 'funded', 'fee')", name="cost_type_valid"),
        CheckConstraint(
            "(cost_type = 'fee' AND fee_pence IS NOT NULL AND fee_pence >= 0)"
            " OR (cost_type <> 'fee' AND fee_pence IS NULL)",
            name="fee_matches_cost_type",
        ),
        CheckConstraint("duration_hours IS NULL OR duration_hours >= 0", name="duration_positive"),
        CheckConstraint("cpd_hours IS NULL OR cpd_hours >= 0", name="cpd_hours_positive"),
        CheckConstraint("credits IS NULL OR credits > 0", name="credits_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    reference: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    who_its_for: Mapped[str] = mapped_column(Text, default="")
    entry_requirements: Mapped[str] = mapped_column(Text, default="")
    where_next: Mapped[str] = mapped_column(Text, default="")
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"), index=True)
    delivery_mode_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_modes.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    duration_hours: Mapped[float | None] = mapped_column(Float)
    cpd_hours: Mapped[float | None] = mapped_column(Float)
    credits: Mapped[int | None] = mapped_column(Integer)
    credit_level: Mapped[str | None] = mapped_column(String(40))
    cost_type: Mapped[str] = mapped_column(String(10), default="free")
    fee_pence: Mapped[int | None] = mapped_column(Integer)
    lived_experience_codelivery: Mapped[bool] = mapped_column(Boolean, default=False)
    #: a learner may hold places on more than one cohort of this course (it is meant to be
    #: taken again); otherwise one place per learner (``academy.enrolment.services``)
    allow_repeats: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    external_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the course joined the curators' queue (submitted, or a published course edited);
    #: ``None`` when nothing waits for a curator
    review_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: the curator's reason, shown to the provider, when the listing was last rejected
    rejection_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: the listing's fields as last approved (JSON, taxonomy terms and courses by id), so
    #: curators see what changed since
    approved_snapshot: Mapped[str | None] = mapped_column(Text)
    #: a published course's edit waiting for (or refused by) a curator (JSON, as
    #: ``approved_snapshot``); the public never reads it (``academy.catalogue.states``)
    pending_edit: Mapped[str | None] = mapped_column(Text)

    provider: Mapped[Provider] = relationship()
    step: Mapped[Step] = relationship()
    delivery_mode: Mapped[DeliveryMode | None] = relationship()
    region: Mapped[Region | None] = relationship()
    sectors: Mapped[list[Sector]] = relationship(secondary=course_sectors, order_by=Sector.position)
    professions: Mapped[list[Profession]] = relationship(
        secondary=course_professions, order_by=Profession.position
    )
    principles: Mapped[list[Principle]] = relationship(
        secondary=course_principles, order_by=Principle.position
    )
    prerequisites: Mapped[list[Course]] = relationship(
        secondary=course_prerequisites,
        primaryjoin=lambda: Course.id == course_prerequisites.c.course_id,
        secondaryjoin=lambda: Course.id == course_prerequisites.c.required_course_id,
        back_populates="next_steps",
        order_by=lambda: Course.title,
    )
    next_steps: Mapped[list[Course]] = relationship(
        secondary=course_prerequisites,
        primaryjoin=lambda: Course.id == course_prerequisites.c.required_course_id,
        secondaryjoin=lambda: Course.id == course_prerequisites.c.course_id,
        back_populates="prerequisites",
        order_by=lambda: Course.title,
    )
    cohorts: Mapped[list[Cohort]] = relationship(
        back_populates="course", cascade="all, delete-orphan", order_by=lambda: Cohort.id
    )
    programme_modules: Mapped[list[ProgrammeModule]] = relationship(
        back_populates="course", cascade="all, delete-orphan"
    )

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    @property
    def awaits_review(self) -> bool:
        """Submitted (however it got there: the editor, an import, the seed), or published with
        an edit a curator has not yet seen."""
        return self.status == "submitted" or self.review_requested_at is not None

    @property
    def state(self) -> str:
        """The publishing state's key (``academy.catalogue.states.STATES``)."""
        return states.state_of(self)

    @property
    def state_info(self) -> states.State:
        return states.STATES[states.state_of(self)]

    @property
    def fee_pounds(self) -> float | None:
        return None if self.fee_pence is None else self.fee_pence / 100

    def __repr__(self) -> str:
        return f"<Course {self.slug}>"


class Programme(db.Model):
    """A named, ordered set of courses taken as modules; each module remains a course of its own."""

    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provider: Mapped[Provider | None] = relationship()
    modules: Mapped[list[ProgrammeModule]] = relationship(
        back_populates="programme",
        cascade="all, delete-orphan",
        order_by=lambda: ProgrammeModule.position,
    )

    def __repr__(self) -> str:
        return f"<Programme {self.slug}>"


class ProgrammeModule(db.Model):
    """Course ``course`` is module number ``position`` (1-based) of ``programme``."""

    __tablename__ = "programme_modules"
    __table_args__ = (
        UniqueConstraint("programme_id", "position", name="uq_programme_modules_position"),
        CheckConstraint("position >= 1", name="position_positive"),
    )

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), primary_key=True
    )
    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)

    programme: Mapped[Programme] = relationship(back_populates="modules")
    course: Mapped[Course] = relationship(back_populates="programme_modules")


class CohortFacts:
    """What a cohort's places and dates say, for the model and for plain rows alike (the public
    course page reads cohorts as plain rows): needs ``capacity``, ``seats_taken``, ``status``
    and ``sessions`` in time order."""

    @property
    def places_left(self) -> int:
        return self.capacity - self.seats_taken

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def is_full(self) -> bool:
        return self.seats_taken >= self.capacity

    @property
    def starts_at(self) -> datetime | None:
        return self.sessions[0].starts_at if self.sessions else None

    @property
    def ends_at(self) -> datetime | None:
        return max((s.ends_at for s in self.sessions), default=None)


class Cohort(CohortFacts, db.Model):
    """One run of a course: a set of dated sessions attended together, with limited places.

    ``seats_taken`` is the only stored count; places left is always ``capacity - seats_taken``.
    """

    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"
        ),
        CheckConstraint("is_online OR location IS NOT NULL", name="online_or_located"),
        CheckConstraint("status IN ('scheduled', 'cancelled')", name="status_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    enrolment_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_online: Mapped[bool] = mapped_column(Boolean, default=False)
    location: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="scheduled", server_default="scheduled")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[Course] = relationship(back_populates="cohorts")
    sessions: Mapped[list[CohortSession]] = relationship(
        back_populates="cohort",
        cascade="all, delete-orphan",
        order_by=lambda: CohortSession.starts_at,
    )

    def __repr__(self) -> str:
        return f"<Cohort {self.id} of course {self.course_id}>"


class CohortSession(db.Model):
    """One dated meeting of a cohort."""

    __tablename__ = "cohort_sessions"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: iCalendar SEQUENCE: rises each time the dates change (``academy.enrolment.models``)
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    cohort: Mapped[Cohort] = relationship(back_populates="sessions")
