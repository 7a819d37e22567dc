"""Portfolio rows of a learner who deletes their account (called by ``academy.erasure``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, func, or_, select, update

from academy.extensions import db
from academy.portfolio.evidence_store import path_for
from academy.portfolio.models import (
    EvidenceFile,
    IssuedCredential,
    LearningRecordEntry,
    ShareLink,
    share_link_entries,
)

DELETED_ACTOR = "Deleted user"
REVOCATION_REASON = "account deleted"


def forget_learner(user_id: int, name: str, staff_of: list[int], now: datetime) -> list[Path]:
    """Delete the learner's entries, evidence rows and share links; revoke their credentials
    (the rows stay so a verifier learns they were revoked; the signed copy, which names them,
    goes); completions they confirmed or corrected as provider staff stay, without their name.

    Flushes, never commits. Returns the evidence files to delete once the caller has committed.
    """
    own_entries = select(LearningRecordEntry.id).where(LearningRecordEntry.user_id == user_id)
    theirs = or_(EvidenceFile.user_id == user_id, EvidenceFile.entry_id.in_(own_entries))
    paths = [path_for(file) for file in db.session.scalars(select(EvidenceFile).where(theirs))]
    own_links = select(ShareLink.id).where(ShareLink.user_id == user_id)
    db.session.execute(
        delete(share_link_entries).where(
            or_(
                share_link_entries.c.share_link_id.in_(own_links),
                share_link_entries.c.entry_id.in_(own_entries),
            )
        )
    )
    db.session.execute(delete(ShareLink).where(ShareLink.user_id == user_id))
    db.session.execute(
        update(IssuedCredential)
        .where(or_(IssuedCredential.user_id == user_id, IssuedCredential.entry_id.in_(own_entries)))
        .values(
            revoked_at=func.coalesce(IssuedCredential.revoked_at, now),
            revocation_reason=REVOCATION_REASON,
            signed="",
            entry_id=None,
        )
    )
    db.session.execute(delete(EvidenceFile).where(theirs))
    db.session.execute(delete(LearningRecordEntry).where(LearningRecordEntry.user_id == user_id))
    db.session.execute(
        update(LearningRecordEntry)
        .where(LearningRecordEntry.confirmed_by_id == user_id)
        .values(confirmed_by_name=DELETED_ACTOR)
    )
    if staff_of:
        db.session.execute(
            update(LearningRecordEntry)
            .where(
                LearningRecordEntry.provider_id.in_(staff_of),
                LearningRecordEntry.corrected_by_name == name,
            )
            .values(corrected_by_name=DELETED_ACTOR)
        )
    db.session.flush()
    return paths
