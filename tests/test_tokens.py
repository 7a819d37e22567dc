"""Emailed links do one thing once: stored as a hash, single-use, expiring, and bound to the
account state they were issued for (issue 15, item 2)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from academy.accounts import services, tokens
from academy.accounts.models import EmailToken, User
from academy.db_types import utcnow
from academy.extensions import db
from tests.conftest import TEST_PASSWORD
from tests.test_accounts import last_mail, link_in, log_in_form

NEW_PASSWORD = "another fine long passphrase"


def register(client, csrf, email="new@example.org", password="a long unusual passphrase"):
    return client.post(
        "/register",
        data={
            "name": "Sam Field",
            "email": email,
            "password": password,
            "csrf_token": csrf(client),
        },
    )


def ask_reset(client, csrf, email: str) -> str:
    client.post("/forgot-password", data={"email": email, "csrf_token": csrf(client)})
    return link_in(last_mail(email))


def test_only_a_hash_of_the_token_is_stored(client, csrf, ctx):
    register(client, csrf)
    link = link_in(last_mail("new@example.org"))
    token = link.split("/")[-1]
    rows = db.session.scalars(select(EmailToken)).all()
    assert len(rows) == 1 and rows[0].purpose == "confirm"
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(getattr(rows[0], column.key)) for column in EmailToken.__table__.columns]
    assert not any(token in value for value in stored)


def test_a_confirmation_link_confirms_once_and_never_logs_in_again(app, client, csrf, ctx):
    register(client, csrf)
    link = link_in(last_mail("new@example.org"))
    first = client.get(link)
    assert first.status_code == 302
    assert client.get("/account").status_code == 200
    client.post("/logout", data={"csrf_token": csrf(client)})

    stranger = app.test_client()
    again = stranger.get(link)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)
    assert stranger.get("/account").status_code == 302  # still not logged in


def test_a_used_confirmation_link_does_not_switch_a_logged_in_person(
    app, client, csrf, login, make_user, ctx
):
    register(client, csrf)
    link = link_in(last_mail("new@example.org"))
    assert client.get(link).status_code == 302
    owner = services.find_user("new@example.org")

    shared_computer = app.test_client()
    other = make_user("other@example.org", name="Other")
    login(shared_computer, other)
    assert shared_computer.get(link).status_code == 400
    page = shared_computer.get("/account").get_data(as_text=True)
    assert "other@example.org" in page and owner.email not in page


def test_a_second_confirmation_link_is_refused_once_the_address_is_confirmed(client, csrf, ctx):
    register(client, csrf)
    first_link = link_in(last_mail("new@example.org"))
    user = services.find_user("new@example.org")
    services.send_confirmation(user)  # as logging in unconfirmed does
    db.session.commit()
    second_link = link_in(last_mail("new@example.org"))
    assert first_link != second_link
    assert client.get(second_link).status_code == 302
    client.post("/logout", data={"csrf_token": csrf(client)})
    assert client.get(first_link).status_code == 400
    assert client.get("/account").status_code == 302


def test_registering_again_outdates_the_earlier_confirmation_link(client, csrf, ctx):
    register(client, csrf)
    old_link = link_in(last_mail("new@example.org"))
    register(client, csrf, password="a different long passphrase")
    new_link = link_in(last_mail("new@example.org"))
    response = client.get(old_link)
    assert response.status_code == 400 and "replaced" in response.get_data(as_text=True)
    assert client.get(new_link).status_code == 302


def test_a_confirmation_link_expires(ctx, client, csrf):
    register(client, csrf)
    token = link_in(last_mail("new@example.org")).split("/")[-1]
    later = utcnow() + timedelta(days=4)
    with pytest.raises(services.InvalidToken, match="expired"):
        services.confirm_email(token, now=later)
    assert services.find_user("new@example.org").email_confirmed_at is None


def test_a_reset_link_dies_when_the_password_is_changed(client, csrf, login, make_user, ctx):
    user = make_user()
    link = ask_reset(client, csrf, user.email)
    login(client, user)
    changed = client.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "password": NEW_PASSWORD,
            "csrf_token": csrf(client),
        },
    )
    assert changed.status_code == 302
    client.post("/logout", data={"csrf_token": csrf(client)})
    response = client.get(link)
    assert response.status_code == 400
    assert "password has changed" in response.get_data(as_text=True)
    again = client.post(
        link, data={"password": "a sneaky long passphrase", "csrf_token": csrf(client)}
    )
    assert again.status_code == 400
    db.session.expire_all()
    assert services.authenticate(user.email, NEW_PASSWORD, "1.2.3.4").id == user.id


def test_a_reset_link_dies_when_another_reset_is_used(client, csrf, make_user, ctx):
    user = make_user()
    first = ask_reset(client, csrf, user.email)
    second = ask_reset(client, csrf, user.email)
    assert first != second
    used = client.post(second, data={"password": NEW_PASSWORD, "csrf_token": csrf(client)})
    assert used.status_code == 302
    client.post("/logout", data={"csrf_token": csrf(client)})
    stale = client.post(
        first, data={"password": "a sneaky long passphrase", "csrf_token": csrf(client)}
    )
    assert stale.status_code == 400
    db.session.expire_all()
    assert services.authenticate(user.email, NEW_PASSWORD, "1.2.3.4").id == user.id


def test_a_used_token_stays_used(client, csrf, make_user, ctx):
    user = make_user()
    link = ask_reset(client, csrf, user.email)
    client.post(link, data={"password": NEW_PASSWORD, "csrf_token": csrf(client)})
    client.post("/logout", data={"csrf_token": csrf(client)})
    response = client.get(link)
    assert response.status_code == 400 and "already been used" in response.get_data(as_text=True)


def test_two_uses_racing_with_one_token_cannot_both_succeed(app, make_user, ctx):
    """Both requests passed the check (the row said unused) before either used it: the
    conditional update lets only the first through."""
    user = make_user()
    token = tokens.issue(user, "reset", timedelta(hours=1))
    db.session.commit()
    first = tokens.check(token, "reset", services.RESET_MESSAGES)
    with app.app_context():  # another request, its own session
        second = tokens.check(token, "reset", services.RESET_MESSAGES)
        tokens.consume(second, "used")
        db.session.commit()
    with pytest.raises(services.InvalidToken):
        tokens.consume(first, "used")


def test_an_email_change_link_works_once(client, login, csrf, make_user, ctx):
    user = make_user()
    login(client, user)
    client.post(
        "/account/email",
        data={
            "email": "moved@example.org",
            "current_password": TEST_PASSWORD,
            "csrf_token": csrf(client),
        },
    )
    link = link_in(last_mail("moved@example.org"))
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "moved@example.org"


def test_a_token_for_one_purpose_does_not_work_for_another(client, csrf, make_user, ctx):
    user = make_user()
    token = ask_reset(client, csrf, user.email).split("/")[-1]
    assert client.get(f"/register/confirm/{token}").status_code == 400
    assert client.get(f"/account/email/confirm/{token}").status_code == 400
    assert client.get(f"/reset-password/{token}").status_code == 200


def test_reset_for_an_unknown_address_is_answered_the_same_and_tells_the_mailbox(client, csrf, ctx):
    response = client.post(
        "/forgot-password", data={"email": "nobody@example.org", "csrf_token": csrf(client)}
    )
    assert response.status_code == 200
    assert last_mail("nobody@example.org").kind == "reset_no_account"
    assert db.session.scalars(select(EmailToken)).all() == []


def test_a_failed_log_in_is_counted_although_the_page_answers_422(client, csrf, make_user, ctx):
    from academy.accounts.models import LoginAttempt

    user = make_user()
    assert log_in_form(client, csrf, user.email, "wrong password!").status_code == 422
    assert log_in_form(client, csrf, "nobody@example.org", "wrong password!").status_code == 422
    emails = db.session.scalars(select(LoginAttempt.email)).all()
    assert sorted(emails) == sorted([user.email, "nobody@example.org"])
