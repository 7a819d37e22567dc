"""Portfolio tables: entries, evidence files, share links and issued credentials.

One entry schema serves every regulator (NMC, HCPC, Social Work England, RCPsych): the regulator
views only choose which fields to show and how to count them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.accounts.models import User
from academy.db_types import UTCDateTime, utcnow
from academy.extensions import db

#: how the learning happened (NMC's "CPD method"; SWE's "type")
METHODS = {
    "course": "Course or workshop",
    "e-learning": "E-learning",
    "supervision": "Supervision",
    "reflective-practice": "Reflective practice group",
    "peer-discussion": "Peer discussion",
    "conference": "Conference or seminar",
    "reading": "Reading or research",
    "shadowing": "Shadowing or observation",
    "other": "Other",
}

#: framework themes an entry can be linked to: the NMC Code's four themes and the parts of
#: Social Work England professional standard 4 (maintain my continuing professional development)
THEMES = {
    "nmc-prioritise-people": "NMC Code: prioritise people",
    "nmc-practise-effectively": "NMC Code: practise effectively",
    "nmc-preserve-safety": "NMC Code: preserve safety",
    "nmc-promote-professionalism": "NMC Code: promote professionalism and trust",
    "swe-4.1": "SWE 4.1: incorporate feedback from a range of sources",
    "swe-4.2": "SWE 4.2: use supervision and feedback to reflect",
    "swe-4.3": "SWE 4.3: keep my practice up to date and record how I use research",
    "swe-4.4": "SWE 4.4: demonstrate good subject knowledge",
    "swe-4.5": "SWE 4.5: contribute to an open and creative learning culture",
    "swe-4.6": "SWE 4.6: reflect on my learning activities and evidence their impact",
    "swe-4.7": "SWE 4.7: record my learning and reflection",
    "swe-4.8": "SWE 4.8: reflect on my own values and challenge the impact they have",
}


class LearningRecordEntry(db.Model):
    """One piece of learning in a learner's portfolio.

    A *verified* entry comes from a provider's completion: it names the provider and the staff
    member who confirmed it, with names copied so that the record reads the same after a course
    or an account changes. The learner may annotate a verified entry (``learner_note``,
    reflections, themes, evidence) but not alter its title, provider, dates or hours. A
    correction keeps the entry and says who corrected it, when and why (``withdrawn_at`` when the
    completion itself was a mistake; a withdrawn entry counts towards nothing).

    A *self-recorded* entry (``verified`` false) is the learner's own and may be edited or deleted.

    ``completed_at`` is the date the learning ended (midnight UTC for self-recorded entries);
    ``started_on`` is optional, for learning that spans days.
    """

    __tablename__ = "learning_record_entries"
    __table_args__ = (
        CheckConstraint("hours IS NULL OR hours >= 0", name="hours_not_negative"),
        CheckConstraint(
            "participatory_hours IS NULL OR participatory_hours >= 0",
            name="participatory_hours_not_negative",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    enrolment_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolments.id", ondelete="SET NULL"), unique=True
    )
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    provider_name: Mapped[str] = mapped_column(String(200), default="")
    started_on: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hours: Mapped[float | None] = mapped_column(Float)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_by_name: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, onupdate=utcnow)
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    corrected_by_name: Mapped[str] = mapped_column(String(120), default="")
    correction_note: Mapped[str] = mapped_column(Text, default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # --- the shared CPD schema (every field optional; regulator views say what is missing) ---
    #: a key of METHODS ("" when not given)
    method: Mapped[str] = mapped_column(String(30), default="", server_default="")
    #: hours spent learning with other people (NMC "participatory"); at most ``hours``
    participatory_hours: Mapped[float | None] = mapped_column(Float)
    #: RCPsych: clinical or non-clinical CPD (None: not said)
    clinical: Mapped[bool | None] = mapped_column(Boolean)
    #: topic and relevance to practice (NMC CPD log; SWE "description and relevance")
    relevance: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: what I learnt
    learnt: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: how I changed or improved my practice
    change_to_practice: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: the impact on the people I support (SWE; HCPC "benefited service users")
    impact: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: peer reflection: with whom (a name the learner chooses to record) and their role
    peer_name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    peer_role: Mapped[str] = mapped_column(String(120), default="", server_default="")
    peer_reflection: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: keys of THEMES
    themes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    #: slugs of taxonomy Principle (the charter principles)
    principles: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    #: the learner's own note on any entry (the only free text they may add to a verified one
    #: besides the reflection fields)
    learner_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: a written reflective account (NMC counts five over three years)
    is_reflective_account: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    #: when the learner confirmed the reflection holds nothing that identifies a person
    reflection_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    evidence: Mapped[list[EvidenceFile]] = relationship(
        back_populates="entry",
        cascade="all, delete-orphan",
        order_by="EvidenceFile.id",
    )

    @property
    def counts(self) -> bool:
        """Whether the entry counts towards totals (a withdrawn completion does not)."""
        return self.withdrawn_at is None

    @property
    def completed_on(self) -> date:
        return self.completed_at.date()


class EvidenceFile(db.Model):
    """A PDF, PNG or JPEG attached to an entry, stored under ``instance/evidence/`` by a random
    name (``stored_name``); ``filename`` is only what the learner called it, for display."""

    __tablename__ = "evidence_files"
    __table_args__ = (
        CheckConstraint(
            "content_type IN ('application/pdf', 'image/png', 'image/jpeg')",
            name="content_type_allowed",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("learning_record_entries.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[LearningRecordEntry] = relationship(back_populates="evidence")


share_link_entries = Table(
    "share_link_entries",
    db.metadata,
    Column(
        "share_link_id",
        ForeignKey("share_links.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "entry_id",
        ForeignKey("learning_record_entries.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)


class ShareLink(db.Model):
    """An unguessable link to chosen entries. Only a hash of the token is stored; the link stops
    working at ``expires_at`` or when revoked."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entries: Mapped[list[LearningRecordEntry]] = relationship(
        secondary=share_link_entries, order_by="LearningRecordEntry.completed_at"
    )


class IssuedCredential(db.Model):
    """An Open Badges 3.0 credential the Academy signed for a verified entry.

    ``public_id`` is the credential's id (``urn:uuid:...``) and the key of its public
    verification page. ``signed`` holds the compact JWS as issued (it names the learner, so it
    is erased with the account, while the row stays to report revocation).
    """

    __tablename__ = "issued_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("learning_record_entries.id", ondelete="SET NULL"), unique=True
    )
    key_id: Mapped[str] = mapped_column(String(64), default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed: Mapped[str] = mapped_column(Text, default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revocation_reason: Mapped[str] = mapped_column(String(200), default="")
