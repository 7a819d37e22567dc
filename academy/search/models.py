"""The search outbox and each index's recorded position in it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from academy.db_types import UTCDateTime, utcnow
from academy.extensions import db


class SearchOutbox(db.Model):
    """A searchable row changed: ``entity`` (course, provider, sector, …) number ``entity_id``.

    Written in the same transaction as the change; applied to each index after commit.
    """

    __tablename__ = "search_outbox"
    # Ids must only ever grow, even after pruning: SQLite reuses the highest rowid otherwise.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SearchIndexPosition(db.Model):
    """How far one index (one server's directory) has applied the outbox; used to prune safely."""

    __tablename__ = "search_index_positions"

    index_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
