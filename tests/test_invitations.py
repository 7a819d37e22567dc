"""Pending staff invitations: listed, cancelled and sent again; a link that no longer works
says why (used, cancelled, replaced by a newer one, expired)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from academy.db_types import utcnow
from academy.extensions import db
from academy.mail.models import OutboxMessage
from academy.providers import services
from academy.providers.models import ProviderInvitation


def links_to(address: str) -> list[str]:
    bodies = db.session.scalars(
        select(OutboxMessage.body)
        .where(OutboxMessage.to_address == address)
        .order_by(OutboxMessage.id)
    )
    return [re.search(r"https?://\S+/provider/invitations/\S+", b).group(0) for b in bodies]


def test_pending_invitations_are_listed_cancelled_and_resent(
    app, client, make_provider, make_user, login, csrf
):
    provider = make_provider("Provider X", slug="provider-x")
    login(client, make_user(staff_of=provider, admin=True))
    client.post(
        "/provider/provider-x/members/invite",
        data={"csrf_token": csrf(client), "email": "pat@example.org"},
    )
    page = client.get("/provider/provider-x/members").get_data(as_text=True)
    assert "pat@example.org" in page and "Send again" in page and "Cancel" in page
    invitation = db.session.scalar(select(ProviderInvitation))

    resent = client.post(
        f"/provider/provider-x/invitations/{invitation.id}/resend",
        data={"csrf_token": csrf(client)},
    )
    assert resent.status_code == 303
    first, second = links_to("pat@example.org")
    pat = app.test_client()
    login(pat, make_user("pat@example.org"))
    old = pat.get(first.replace("http://localhost", ""))
    assert old.status_code == 400
    assert "newer invitation" in old.get_data(as_text=True)

    newest = db.session.scalar(
        select(ProviderInvitation).where(ProviderInvitation.cancelled_at.is_(None))
    )
    cancelled = client.post(
        f"/provider/provider-x/invitations/{newest.id}/cancel", data={"csrf_token": csrf(client)}
    )
    assert cancelled.status_code == 303
    response = pat.get(second.replace("http://localhost", ""))
    assert response.status_code == 400
    assert "Provider X cancelled this invitation" in response.get_data(as_text=True)
    assert (
        "pat@example.org"
        not in client.get("/provider/provider-x/members")
        .get_data(as_text=True)
        .split("<h2>Invitations</h2>", 1)[1]
        .split("<h2>Invite")[0]
    )


def test_cancelling_someone_elses_organisations_invitation_changes_nothing(
    client, make_provider, make_user, login, csrf
):
    mine, theirs = make_provider(slug="mine"), make_provider(slug="theirs")
    other_admin = make_user(staff_of=theirs, admin=True)
    invitation, _ = services.invite(other_admin, theirs, "x@example.org", accept_url=str)
    db.session.commit()
    login(client, make_user(staff_of=mine, admin=True))
    response = client.post(
        f"/provider/mine/invitations/{invitation.id}/cancel", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(ProviderInvitation, invitation.id).cancelled_at is None


def test_an_expired_invitation_explains_itself_and_can_be_sent_again(ctx, make_provider, make_user):
    provider = make_provider("Provider Y")
    admin = make_user(staff_of=provider, admin=True)
    invitation, token = services.invite(
        admin, provider, "late@example.org", accept_url=str, now=utcnow() - timedelta(days=8)
    )
    db.session.commit()
    try:
        services.find_invitation(token)
    except services.InvalidInvitation as error:
        assert "expired on" in error.message and "send it again" in error.message
    else:
        raise AssertionError("an expired link worked")
    assert services.pending_invitations(provider) == [invitation]  # listed, to be sent again
    new, new_token = services.resend_invitation(admin, provider, invitation.id, accept_url=str)
    db.session.commit()
    assert services.find_invitation(new_token) == new


def test_a_used_invitation_explains_itself(ctx, make_provider, make_user):
    provider = make_provider("Provider Z")
    admin = make_user(staff_of=provider, admin=True)
    _, token = services.invite(admin, provider, "joiner@example.org", accept_url=str)
    services.accept_invitation(make_user("joiner@example.org"), token)
    db.session.commit()
    try:
        services.find_invitation(token)
    except services.InvalidInvitation as error:
        assert "already been used" in error.message and "Provider Z" in error.message
    else:
        raise AssertionError("a used link worked")
