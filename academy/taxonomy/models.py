"""Taxonomy tables. Each term has a stable ``slug`` used in URLs and imports, and a ``name``
curators may change without breaking any link."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from academy.db_types import UTCDateTime
from academy.extensions import db


class TermMixin:
    """Columns every taxonomy term has: a stable slug, a display name and a display order."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: a retired term stays on the courses that have it but cannot be chosen for others
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.slug}>"


class Step(TermMixin, db.Model):
    """A rung of the training escalator: 0 introductory up to 4 leadership."""

    __tablename__ = "steps"
    __table_args__ = (CheckConstraint("number BETWEEN 0 AND 4", name="number_range"),)

    number: Mapped[int] = mapped_column(Integer, unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class Sector(TermMixin, db.Model):
    __tablename__ = "sectors"


class Profession(TermMixin, db.Model):
    __tablename__ = "professions"


class Principle(TermMixin, db.Model):
    """A relational charter principle that courses address and portfolios cover."""

    __tablename__ = "principles"


class DeliveryMode(TermMixin, db.Model):
    __tablename__ = "delivery_modes"


class Region(TermMixin, db.Model):
    __tablename__ = "regions"


TERM_MODELS: dict[str, type[TermMixin]] = {
    "steps": Step,
    "sectors": Sector,
    "professions": Profession,
    "principles": Principle,
    "delivery_modes": DeliveryMode,
    "regions": Region,
}
