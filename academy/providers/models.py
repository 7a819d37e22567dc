"""The provider organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.db_types import UTCDateTime, utcnow
from academy.extensions import db


class Provider(db.Model):
    """An organisation that lists courses (an NHS trust, a university, a charity, a trainer)."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    contact_email: Mapped[str | None] = mapped_column(String(254))
    #: set by a curator; until then the provider's courses cannot be published
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    def __repr__(self) -> str:
        return f"<Provider {self.slug}>"


class ProviderInvitation(db.Model):
    """An emailed link to join a provider: single use (``used_at``), expiring at ``expires_at``.

    Only the SHA-256 of the token is stored, so a database reader cannot use a pending link.
    """

    __tablename__ = "provider_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: an admin cancelled it (the link then says so); a resent invitation cancels the old one
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    provider: Mapped[Provider] = relationship()


class CohortJoiningLink(db.Model):
    """The link an online cohort's learners use to join its sessions (a video call).

    A table of its own rather than a column of ``cohorts`` on purpose: cohorts are public (the
    course page, the API, the search index, exports), while this link is for learners with a
    place only (``academy.enrolment.joining.visible_links``), so nothing that shows a cohort
    can print it by accident.
    """

    __tablename__ = "cohort_joining_links"

    cohort_id: Mapped[int] = mapped_column(
        ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(String(500))
