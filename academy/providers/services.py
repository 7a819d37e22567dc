"""Provider organisations: creating one, its members and invitations, and who may act for it.

Plain functions that check the rules, change rows, write the audit log and flush; the view
commits once. A refusal raises :class:`ProviderError` with a message fit to show.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from academy import audit
from academy.accounts.models import ProviderMembership, User
from academy.catalogue.slugs import make_unique_slug
from academy.db_types import utcnow
from academy.extensions import db
from academy.mail import outbox
from academy.providers import notify
from academy.providers.models import Provider, ProviderInvitation
from academy.unit_of_work import DomainError

INVITATION_LIFETIME = timedelta(days=7)
UK = ZoneInfo("Europe/London")
#: words the provider screens use after /provider/, so no organisation may have them as a slug
RESERVED_SLUGS = frozenset(
    {"new", "invitations", "cohorts", "import-template-csv", "import-guide-txt"}
)


class ProviderError(DomainError):
    """A refusal with a message fit to show; nothing has been changed."""


class NotMember(ProviderError):
    """The user is not staff of this provider (or not its admin, where that is needed)."""


class InvalidInvitation(ProviderError):
    pass


# ---------------------------------------------------------------------------- who may act


def membership(user: User, provider: Provider) -> ProviderMembership | None:
    if not user.is_authenticated:
        return None
    return next((m for m in user.memberships if m.provider_id == provider.id), None)


def require_staff(user: User, provider: Provider, *, admin: bool = False) -> ProviderMembership:
    """:raise NotMember: unless ``user`` works for ``provider`` (and is its admin if asked)."""
    member = membership(user, provider)
    if member is None:
        raise NotMember("Only this organisation's staff can do that.")
    if admin and not member.is_admin:
        raise NotMember("Only this organisation's admins can do that.")
    return member


def organisations_of(user: User) -> list[Provider]:
    return sorted((m.provider for m in user.memberships), key=lambda p: p.name.casefold())


# ---------------------------------------------------------------------------- organisations

ORGANISATION_FIELDS = ("name", "website", "contact_email", "description")


def create_organisation(
    user: User, *, name: str, website: str | None, contact_email: str | None, description: str
) -> Provider:
    """Create an unverified provider with ``user`` as its first admin.

    Its courses cannot be published until a curator verifies it.
    """
    taken = set(db.session.scalars(select(Provider.slug))) | RESERVED_SLUGS
    provider = Provider(
        slug=make_unique_slug(name, taken, fallback="provider")[:80],
        name=name,
        website=website or None,
        contact_email=contact_email or None,
        description=description,
    )
    db.session.add(provider)
    db.session.add(ProviderMembership(user=user, provider=provider, is_admin=True))
    db.session.flush()
    audit.record(user, "provider.created", f"Created the organisation {name}", provider=provider)
    notify.organisation_created(provider)
    return provider


def update_organisation(user: User, provider: Provider, **values) -> dict[str, list]:
    """Change the organisation's details; returns (and logs) what changed.

    :raise NotMember: unless ``user`` is an admin of ``provider``.
    """
    require_staff(user, provider, admin=True)
    changes = {}
    for name in ORGANISATION_FIELDS:
        if name in values:
            new = values[name] or (None if name in ("website", "contact_email") else "")
            old = getattr(provider, name)
            if new != old:
                changes[name] = [old, new]
                setattr(provider, name, new)
    if changes:
        db.session.flush()
        audit.record(
            user,
            "provider.edited",
            f"Edited the details of {provider.name}",
            provider=provider,
            detail=changes,
        )
    return changes


def members(provider: Provider) -> list[ProviderMembership]:
    return db.session.scalars(
        select(ProviderMembership)
        .where(ProviderMembership.provider_id == provider.id)
        .options(selectinload(ProviderMembership.user))
        .order_by(ProviderMembership.created_at)
    ).all()


#: how long an expired, unused invitation stays listed (so it can be sent again)
EXPIRED_LISTED_FOR = timedelta(days=30)


def pending_invitations(
    provider: Provider, now: datetime | None = None
) -> list[ProviderInvitation]:
    """Invitations not used and not cancelled, oldest first: those waiting, and those that
    expired in the last 30 days (they can be sent again)."""
    now = now or utcnow()
    return db.session.scalars(
        select(ProviderInvitation)
        .where(
            ProviderInvitation.provider_id == provider.id,
            ProviderInvitation.used_at.is_(None),
            ProviderInvitation.cancelled_at.is_(None),
            ProviderInvitation.expires_at > now - EXPIRED_LISTED_FOR,
        )
        .order_by(ProviderInvitation.created_at)
    ).all()


def _own_invitation(
    user: User, provider: Provider, invitation_id: int, now: datetime
) -> ProviderInvitation:
    """:raise NotMember: not staff (or an admin's invitation, not an admin).
    :raise InvalidInvitation: no such invitation of this provider, or already used/cancelled."""
    require_staff(user, provider)
    invitation = db.session.get(ProviderInvitation, invitation_id)
    if invitation is None or invitation.provider_id != provider.id:
        raise InvalidInvitation("There is no such invitation.")
    require_staff(user, provider, admin=invitation.is_admin)
    if invitation.used_at is not None:
        raise InvalidInvitation(f"{invitation.email} has already accepted this invitation.")
    if invitation.cancelled_at is not None:
        raise InvalidInvitation("This invitation was already cancelled.")
    return invitation


def cancel_invitation(
    user: User, provider: Provider, invitation_id: int, now: datetime | None = None
) -> ProviderInvitation:
    """Cancel a pending invitation: its link then says it was cancelled.

    :raise NotMember: not staff, or an admin's invitation and not an admin.
    :raise InvalidInvitation: no such pending invitation of this provider.
    """
    now = now or utcnow()
    invitation = _own_invitation(user, provider, invitation_id, now)
    invitation.cancelled_at = now
    db.session.flush()
    audit.record(
        user,
        "member.invitation_cancelled",
        f"Cancelled the invitation of {invitation.email}",
        provider=provider,
    )
    return invitation


def resend_invitation(
    user: User, provider: Provider, invitation_id: int, *, accept_url, now: datetime | None = None
) -> tuple[ProviderInvitation, str]:
    """Send a pending (or expired) invitation again, with a new link valid for 7 days; the old
    link then says a newer one was sent. Returns the new invitation and its token.

    :raise NotMember: as :func:`cancel_invitation`. :raise InvalidInvitation: no such pending
        invitation of this provider.
    """
    now = now or utcnow()
    old = _own_invitation(user, provider, invitation_id, now)
    old.cancelled_at = now
    db.session.flush()
    return invite(user, provider, old.email, is_admin=old.is_admin, accept_url=accept_url, now=now)


def _admin_count(provider: Provider) -> int:
    return sum(1 for m in members(provider) if m.is_admin)


def set_admin(user: User, provider: Provider, member_id: int, is_admin: bool) -> ProviderMembership:
    """Make a member an admin, or not. The last admin cannot stop being one.

    :raise NotMember: unless ``user`` is an admin; :raise ProviderError: no such member, or the
    last admin.
    """
    require_staff(user, provider, admin=True)
    target = db.session.get(ProviderMembership, (member_id, provider.id))
    if target is None:
        raise ProviderError("That person is not a member of this organisation.")
    if target.is_admin and not is_admin and _admin_count(provider) <= 1:
        raise ProviderError(
            "An organisation needs at least one admin. Make someone else one first."
        )
    if target.is_admin != is_admin:
        target.is_admin = is_admin
        db.session.flush()
        audit.record(
            user,
            "member.admin" if is_admin else "member.not_admin",
            f"{'Made' if is_admin else 'Removed'} {target.user.name} "
            f"{'an admin' if is_admin else 'as admin'} of {provider.name}",
            provider=provider,
        )
    return target


def remove_member(user: User, provider: Provider, member_id: int) -> None:
    """Remove a member (an admin may remove anyone; anyone may leave). The last admin stays.

    :raise NotMember: not allowed; :raise ProviderError: no such member, or the last admin.
    """
    own = require_staff(user, provider)
    if member_id != user.id and not own.is_admin:
        raise NotMember("Only this organisation's admins can remove members.")
    target = db.session.get(ProviderMembership, (member_id, provider.id))
    if target is None:
        raise ProviderError("That person is not a member of this organisation.")
    if target.is_admin and _admin_count(provider) <= 1:
        raise ProviderError(
            "An organisation needs at least one admin. Make someone else one first."
        )
    name = target.user.name
    target.user.memberships.remove(target)
    db.session.delete(target)
    db.session.flush()
    audit.record(user, "member.removed", f"Removed {name} from {provider.name}", provider=provider)


# ---------------------------------------------------------------------------- invitations


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite(
    user: User,
    provider: Provider,
    email: str,
    *,
    is_admin: bool = False,
    accept_url,
    now: datetime | None = None,
) -> tuple[ProviderInvitation, str]:
    """Email a single-use link to join ``provider``; returns the invitation and its token.

    ``accept_url(token)`` builds the link. Any member may invite a colleague; only an admin may
    invite another admin. :raise NotMember: otherwise.
    """
    require_staff(user, provider, admin=is_admin)
    now = now or utcnow()
    email = email.strip().lower()
    already = db.session.scalar(
        select(ProviderMembership)
        .join(User, User.id == ProviderMembership.user_id)
        .where(ProviderMembership.provider_id == provider.id, User.email == email)
    )
    if already is not None:
        raise ProviderError(f"{email} is already a member of {provider.name}.")
    for earlier in db.session.scalars(
        select(ProviderInvitation).where(
            ProviderInvitation.provider_id == provider.id,
            ProviderInvitation.email == email,
            ProviderInvitation.used_at.is_(None),
            ProviderInvitation.cancelled_at.is_(None),
        )
    ):
        earlier.cancelled_at = now  # one live link per person: the newest
    token = secrets.token_urlsafe(32)
    invitation = ProviderInvitation(
        provider=provider,
        email=email,
        token_hash=_digest(token),
        is_admin=is_admin,
        invited_by_id=user.id,
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    db.session.add(invitation)
    db.session.flush()
    outbox.queue(
        email,
        "provider_invitation",
        provider=provider,
        inviter=user,
        link=accept_url(token),
        expires_at=invitation.expires_at,
    )
    audit.record(user, "member.invited", f"Invited {email} to {provider.name}", provider=provider)
    return invitation, token


def find_invitation(token: str, now: datetime | None = None) -> ProviderInvitation:
    """The invitation of a link that still works.

    :raise InvalidInvitation: unknown, used, cancelled, replaced by a newer one, or expired;
        the message says which, and what to do.
    """
    now = now or utcnow()
    invitation = db.session.scalar(
        select(ProviderInvitation).where(ProviderInvitation.token_hash == _digest(token))
    )
    if invitation is None:
        raise InvalidInvitation(
            "This invitation link is not valid. Check that you opened the whole link from the"
            " email, or ask the organisation to invite you again."
        )
    name = invitation.provider.name
    if invitation.used_at is not None:
        raise InvalidInvitation(
            f"This invitation to {name} has already been used. If it was you, you are a member:"
            " log in with the invited address."
        )
    if invitation.cancelled_at is not None:
        newer = db.session.scalar(
            select(ProviderInvitation.id).where(
                ProviderInvitation.provider_id == invitation.provider_id,
                ProviderInvitation.email == invitation.email,
                ProviderInvitation.created_at >= invitation.cancelled_at,
            )
        )
        if newer is not None:
            raise InvalidInvitation(
                f"{name} has sent you a newer invitation, so this link no longer works. Use the"
                " link in the latest email."
            )
        raise InvalidInvitation(
            f"{name} cancelled this invitation, so the link no longer works. If you expected"
            " to join, ask them to invite you again."
        )
    if invitation.expires_at <= now:
        expired = invitation.expires_at.astimezone(UK)
        raise InvalidInvitation(
            f"This invitation to {name} expired on {expired:%d %B %Y}. Ask them to send it"
            " again: they can resend it from their members page."
        )
    return invitation


def accept_invitation(user: User, token: str, now: datetime | None = None) -> Provider:
    """Make ``user`` a member; the link then no longer works.

    Only the account with the invited address may use it, so a forwarded or leaked link gives
    nobody else access to the organisation's learners. :raise InvalidInvitation: as
    ``find_invitation``, or when ``user`` has another address.
    """
    now = now or utcnow()
    invitation = find_invitation(token, now)
    if user.email.lower() != invitation.email:
        raise InvalidInvitation(
            f"This invitation was sent to {invitation.email}. Log in with that address to accept "
            "it, or ask the organisation to invite the address you use here."
        )
    invitation.used_at = now
    provider = invitation.provider
    if membership(user, provider) is None:
        user.memberships.append(ProviderMembership(provider=provider, is_admin=invitation.is_admin))
    db.session.flush()
    audit.record(user, "member.joined", f"{user.name} joined {provider.name}", provider=provider)
    return provider
