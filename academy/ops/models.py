"""Rate-limit counters, shared by every worker and server through the database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from academy.db_types import UTCDateTime
from academy.extensions import db


class RateLimitCounter(db.Model):
    """Requests counted in one fixed window for one rule and one client.

    ``key`` is ``<rule>:<window number>:<keyed hash of the client>``, so the table never holds an
    address or an account id; a row is useless once ``expires_at`` (its window's end) has passed.
    """

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
