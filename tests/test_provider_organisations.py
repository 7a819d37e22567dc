"""Provider organisations: registering one, verification, members, single-use invitations."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from academy.accounts.models import ProviderMembership
from academy.audit import AuditEntry
from academy.extensions import db
from academy.mail.models import OutboxMessage
from academy.providers import services
from academy.providers.models import Provider


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_registering_an_organisation_makes_an_unverified_provider_with_its_admin(
    client, make_user, login, csrf
):
    user = make_user(name="Ada Trainer")
    login(client, user)
    response = client.post(
        "/provider/new",
        data={
            "csrf_token": csrf(client),
            "name": "Kent Recovery College",
            "website": "https://kent.example.org",
            "contact_email": "hello@kent.example.org",
            "description": "Courses co-produced with people with lived experience.",
        },
    )
    assert response.status_code == 303
    provider = db.session.scalar(select(Provider).where(Provider.name == "Kent Recovery College"))
    assert provider.slug == "kent-recovery-college" and not provider.is_verified
    member = db.session.get(ProviderMembership, (user.id, provider.id))
    assert member.is_admin
    assert actions() == ["provider.created"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Not verified yet" in page


def test_a_bad_organisation_form_keeps_what_was_typed_and_says_what_is_wrong(
    client, make_user, login, csrf
):
    login(client, make_user())
    response = client.post(
        "/provider/new",
        data={"csrf_token": csrf(client), "name": "Kent Recovery", "website": "not a url"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in page and 'value="Kent Recovery"' in page
    assert "Enter a web address" in page and "Enter your email address" in page
    assert db.session.scalar(select(Provider)) is None


def test_reserved_words_never_become_slugs(ctx, make_user):
    provider = services.create_organisation(
        make_user(), name="New", website=None, contact_email=None, description=""
    )
    assert provider.slug == "new-2"


def _invitation_link(address: str) -> str:
    mail = db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.kind == "provider_invitation", OutboxMessage.to_address == address
        )
    )
    return re.search(r"http://localhost(/provider/invitations/\S+)", mail.body).group(1)


def test_an_invitation_link_works_once(client, app, make_provider, make_user, login, csrf):
    provider = make_provider("Provider X")
    admin = make_user(staff_of=provider, admin=True)
    login(client, admin)
    response = client.post(
        f"/provider/{provider.slug}/members/invite",
        data={"csrf_token": csrf(client), "email": "Colleague@Example.org"},
    )
    assert response.status_code == 303
    link = _invitation_link("colleague@example.org")

    stranger = app.test_client()
    login(stranger, make_user("someone.else@example.org"))
    refused = stranger.post(link, data={"csrf_token": csrf(stranger)})
    assert refused.status_code == 400
    assert "was sent to colleague@example.org" in refused.get_data(as_text=True)
    assert stranger.get(link).status_code == 400

    colleague = make_user("colleague@example.org")
    other = app.test_client()
    login(other, colleague)
    assert "Join Provider X?" in other.get(link).get_data(as_text=True)
    assert other.post(link, data={"csrf_token": csrf(other)}).status_code == 303
    membership = db.session.get(ProviderMembership, (colleague.id, provider.id))
    assert membership is not None and not membership.is_admin
    assert other.get(f"/provider/{provider.slug}").status_code == 200

    third = app.test_client()
    login(third, make_user())
    again = third.post(link, data={"csrf_token": csrf(third)})
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)
    assert actions() == ["member.invited", "member.joined"]


def test_an_expired_invitation_is_refused(ctx, make_provider, make_user):
    provider = make_provider()
    admin = make_user(staff_of=provider, admin=True)
    _, token = services.invite(
        admin,
        provider,
        "late@example.org",
        accept_url=lambda t: t,
        now=services.utcnow() - timedelta(days=8),
    )
    db.session.commit()
    try:
        services.accept_invitation(make_user(), token)
    except services.InvalidInvitation as error:
        assert "expired" in error.message
    else:
        raise AssertionError("an expired invitation was accepted")


def test_members_invite_only_admins_invite_admins_and_the_last_admin_stays(
    client, make_provider, make_user, login, csrf
):
    provider = make_provider()
    admin = make_user(staff_of=provider, admin=True)
    staff = make_user(staff_of=provider)
    login(client, staff)
    invited = client.post(
        f"/provider/{provider.slug}/members/invite",
        data={"csrf_token": csrf(client), "email": "x@example.org"},
    )
    assert invited.status_code == 303
    refused = client.post(
        f"/provider/{provider.slug}/members/invite",
        data={"csrf_token": csrf(client), "email": "y@example.org", "is_admin": "y"},
    )
    assert refused.status_code == 403
    try:
        services.remove_member(admin, provider, admin.id)
    except services.ProviderError as error:
        assert "at least one admin" in error.message
    db.session.rollback()
    services.set_admin(admin, provider, staff.id, True)
    services.remove_member(admin, provider, admin.id)  # now someone else is admin
    db.session.commit()
    assert [m.user_id for m in services.members(provider)] == [staff.id]


def test_removing_a_member_asks_first_then_removes(client, make_provider, make_user, login, csrf):
    provider = make_provider()
    admin = make_user(staff_of=provider, admin=True)
    leaver = make_user(name="Leaving Person", staff_of=provider)
    login(client, admin)
    url = f"/provider/{provider.slug}/members/{leaver.id}/remove"
    page = client.get(url).get_data(as_text=True)
    assert "Remove Leaving Person" in page and "No, go back" in page
    assert db.session.get(ProviderMembership, (leaver.id, provider.id)) is not None
    assert client.post(url, data={"csrf_token": csrf(client)}).status_code == 303
    db.session.expire_all()
    assert db.session.get(ProviderMembership, (leaver.id, provider.id)) is None
    assert "member.removed" in actions()


def test_staff_of_another_organisation_see_nothing(client, make_provider, make_user, login):
    x, y = make_provider(), make_provider()
    login(client, make_user(staff_of=y, admin=True))
    for path in ("", "/members", "/details", "/courses/new"):
        assert client.get(f"/provider/{x.slug}{path}").status_code == 403
