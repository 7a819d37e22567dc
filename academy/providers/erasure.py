"""Provider rows naming a person who deletes their account (called by ``academy.erasure``)."""

from __future__ import annotations

from sqlalchemy import delete, func, update

from academy.extensions import db
from academy.providers.models import Provider, ProviderInvitation


def forget_address(email: str) -> None:
    """Delete invitations to ``email`` and clear it where it is a provider's contact address
    (flushes, never commits)."""
    email = email.lower()
    db.session.execute(
        delete(ProviderInvitation).where(func.lower(ProviderInvitation.email) == email)
    )
    db.session.execute(
        update(Provider)
        .where(func.lower(Provider.contact_email) == email)
        .values(contact_email=None)
    )
    db.session.flush()
