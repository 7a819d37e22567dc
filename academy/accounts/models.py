"""People: accounts, server-side sessions, provider memberships, login attempts, emailed links.

A learner's record belongs to the learner, not an employer: employer and regulator are optional
profile fields, and nothing here depends on them.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from academy.db_types import UTCDateTime, utcnow
from academy.extensions import db
from academy.providers.models import Provider
from academy.taxonomy.models import Profession, Region, Sector

REGULATORS = {
    "": "None",
    "nmc": "NMC (Nursing and Midwifery Council)",
    "hcpc": "HCPC (Health and Care Professions Council)",
    "swe": "Social Work England",
    "gmc": "GMC (General Medical Council; RCPsych CPD for psychiatrists)",
}


class User(UserMixin, db.Model):
    """Someone with an account. Everyone is a learner; staff and curators have more rights.

    ``get_id`` returns the token of the server-side session this object was loaded through (set
    by ``accounts.sessions``), never the database id: logging out deletes that session row, so a
    replayed cookie names a session that no longer exists.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("regulator IN ('', 'nmc', 'hcpc', 'swe', 'gmc')", name="regulator_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_curator: Mapped[bool] = mapped_column(Boolean, default=False)
    sector_id: Mapped[int | None] = mapped_column(ForeignKey("sectors.id"))
    profession_id: Mapped[int | None] = mapped_column(ForeignKey("professions.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    employer: Mapped[str] = mapped_column(String(200), default="")
    regulator: Mapped[str] = mapped_column(String(10), default="")
    calendar_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: NMC: the date revalidation is due (the portfolio's three-year window ends here)
    revalidation_on: Mapped[date | None] = mapped_column(Date)
    #: set when the learner deleted their account: the row stays (anonymised) so that
    #: providers' enrolment counts stay right
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sector: Mapped[Sector | None] = relationship()
    profession: Mapped[Profession | None] = relationship()
    region: Mapped[Region | None] = relationship()
    memberships: Mapped[list[ProviderMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    session_token = None  # set per request by accounts.security; not a column
    role_when_loaded = None  # the role when accounts.security loaded it; not a column

    @property
    def role(self) -> str:
        """curator, provider or learner: what the account may do, in one word."""
        if self.is_curator:
            return "curator"
        return "provider" if self.memberships else "learner"

    def get_id(self) -> str | None:  # Flask-Login stores this in the session cookie
        return self.session_token

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def staff_provider_ids(self) -> set[int]:
        return {m.provider_id for m in self.memberships}

    def is_staff_of(self, provider_id: int) -> bool:
        return provider_id in self.staff_provider_ids

    @property
    def regulator_name(self) -> str:
        return REGULATORS.get(self.regulator, "None")

    def __repr__(self) -> str:
        return f"<User {self.id}>"


class ProviderMembership(db.Model):
    """``user`` works for ``provider`` (provider staff); admins manage the provider's staff."""

    __tablename__ = "provider_memberships"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    provider_id: Mapped[int] = mapped_column(
        ForeignKey("providers.id", ondelete="CASCADE"), primary_key=True
    )
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    provider: Mapped[Provider] = relationship()


class AuthSession(db.Model):
    """One logged-in browser. The cookie holds the token; only its SHA-256 is stored."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """A failed log-in, kept in the database so that the limit holds across workers."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "attempted_at"),
        Index("ix_login_attempts_address_at", "address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmailToken(db.Model):
    """A link sent by mail: confirm an address, reset a password, or move to a new address.

    Only the SHA-256 of the random token is stored. A token works once (``used_at`` is set by a
    conditional update, so two simultaneous uses cannot both succeed), until ``expires_at``, and
    only while the account is in the state it was issued for: ``bound_to`` is a fingerprint of
    the account's address and password hash (``accounts.tokens.account_state``), so a reset link
    dies when the password changes by any route, and a confirmation link when its owner registers
    again.
    """

    __tablename__ = "email_tokens"
    __table_args__ = (
        CheckConstraint("purpose IN ('confirm', 'reset', 'change_email')", name="purpose_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    bound_to: Mapped[str] = mapped_column(String(64))
    #: the address a ``change_email`` link moves the account to ("" for the other purposes)
    new_email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
