"""Accounts: registration, log-in limits, sessions that really end, reset links, safe redirects."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from academy.accounts import services
from academy.accounts.models import User
from academy.accounts.passwords import password_problem
from academy.accounts.security import safe_next
from academy.db_types import utcnow
from academy.extensions import db
from academy.mail.models import OutboxMessage
from tests.conftest import TEST_PASSWORD


def last_mail(to: str) -> OutboxMessage:
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == to)
        .order_by(OutboxMessage.id.desc())
    ).first()


def link_in(message: OutboxMessage) -> str:
    url = re.search(r"http://\S+", message.body).group(0)
    return re.sub(r"^http://[^/]+", "", url)


def log_in_form(client, csrf, email, password, next_=None):
    url = "/login" + (f"?next={quote(next_, safe='')}" if next_ else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": csrf(client)})


def test_register_confirm_and_messages_do_not_reveal_accounts(client, csrf, make_user, ctx):
    taken = make_user("taken@example.org")
    pages = []
    for email in ("new@example.org", taken.email):
        response = client.post(
            "/register",
            data={
                "name": "Sam Field",
                "email": email,
                "password": "a long unusual passphrase",
                "csrf_token": csrf(client),
            },
        )
        assert response.status_code == 200
        pages.append(response.get_data(as_text=True).replace(email, "EMAIL"))
    assert pages[0] == pages[1]
    assert last_mail(taken.email).kind == "already_registered"
    confirm = last_mail("new@example.org")
    assert confirm.kind == "confirm_email"
    response = client.get(link_in(confirm))
    assert response.status_code == 302 and response.location.endswith("/my-learning")
    assert client.get("/my-learning").status_code == 200


def test_registration_keeps_typed_values_and_explains_errors(client, csrf):
    response = client.post(
        "/register",
        data={
            "name": "Ana\x00 Lee",
            "email": "not-an-email",
            "password": "short",
            "csrf_token": csrf(client),
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "There is a problem" in page and 'href="#email"' in page
    assert 'value="Ana Lee"' in page and 'value="not-an-email"' in page
    assert "at least 10 characters" in page


@pytest.mark.parametrize(
    "password, ok",
    [
        ("1234567890", False),
        ("qwertyuiop", False),
        ("aaaaaaaaaaaa", False),
        ("plum kettle rowing lantern", True),
    ],
)
def test_password_rules(password, ok):
    assert (password_problem(password) is None) is ok


def test_sixth_failed_login_is_throttled(client, csrf, make_user):
    user = make_user()
    for _ in range(5):
        assert log_in_form(client, csrf, user.email, "wrong password!").status_code == 422
    response = log_in_form(client, csrf, user.email, TEST_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert client.get("/my-learning").status_code == 302


def test_failures_from_one_address_are_limited_too(app, client, csrf, make_user):
    app.config["LOGIN_FAILURES_PER_ADDRESS"] = 3
    users = [make_user() for _ in range(4)]
    for user in users[:3]:
        log_in_form(client, csrf, user.email, "wrong password!")
    assert log_in_form(client, csrf, users[3].email, TEST_PASSWORD).status_code == 429


def test_old_failures_expire(ctx, make_user):
    user = make_user()
    past = utcnow() - timedelta(minutes=16)
    for _ in range(5):
        with pytest.raises(services.InvalidCredentials):
            services.authenticate(user.email, "nope nope nope", "10.0.0.1", now=past)
    assert services.authenticate(user.email, TEST_PASSWORD, "10.0.0.1").id == user.id


def test_login_changes_session_and_logout_makes_replayed_cookie_useless(
    app, client, csrf, make_user
):
    user = make_user()
    client.get("/login")
    before = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    response = log_in_form(client, csrf, user.email, TEST_PASSWORD)
    assert response.status_code == 302
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert before is None or before.value != cookie
    assert client.get("/my-learning").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf(client)}).status_code == 302

    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    response = thief.get("/my-learning")
    assert response.status_code == 302 and "/login" in response.location


def test_logout_needs_post_and_csrf(client, login, make_user):
    login(client, make_user())
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/my-learning").status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "https://elsewhere.example",
        "//evil.example/x",
        "/\\evil.example",
        "http:/x",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x",
    ],
)
def test_next_only_goes_to_this_site(client, csrf, make_user, target):
    user = make_user()
    response = log_in_form(client, csrf, user.email, TEST_PASSWORD, next_=target)
    assert response.status_code == 302
    assert response.location == "/my-learning"
    assert safe_next(target) is None


def test_next_to_a_local_page_is_followed(client, csrf, make_user):
    user = make_user()
    response = log_in_form(client, csrf, user.email, TEST_PASSWORD, next_="/account")
    assert response.location == "/account"


def test_reset_link_works_once_and_expires(client, csrf, make_user, ctx):
    user = make_user()
    page_known = client.post(
        "/forgot-password", data={"email": user.email, "csrf_token": csrf(client)}
    ).get_data(as_text=True)
    page_unknown = client.post(
        "/forgot-password", data={"email": "nobody@example.org", "csrf_token": csrf(client)}
    ).get_data(as_text=True)
    assert page_known.replace(user.email, "X") == page_unknown.replace("nobody@example.org", "X")
    link = link_in(last_mail(user.email))
    assert client.get(link).status_code == 200
    new = "another fine long passphrase"
    response = client.post(link, data={"password": new, "csrf_token": csrf(client)})
    assert response.status_code == 302
    client.post("/logout", data={"csrf_token": csrf(client)})
    again = client.post(
        link, data={"password": "yet another passphrase", "csrf_token": csrf(client)}
    )
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    db.session.expire_all()
    assert services.authenticate(user.email, new, "1.2.3.4").id == user.id

    services.request_password_reset(user.email)
    db.session.commit()
    late_link = link_in(last_mail(user.email))
    token = late_link.rsplit("/", 1)[1]
    with pytest.raises(services.InvalidToken, match="expired"):
        services.reset_password(token, "a later long passphrase", now=utcnow() + timedelta(hours=2))


def test_unconfirmed_account_cannot_log_in(client, csrf, make_user):
    user = make_user(confirmed=False)
    response = log_in_form(client, csrf, user.email, TEST_PASSWORD)
    assert response.status_code == 422 and "Confirm your email" in response.get_data(as_text=True)


def test_change_password_ends_other_sessions(app, client, login, csrf, make_user):
    user = make_user()
    other_device = app.test_client()
    login(other_device, user)
    login(client, user)
    response = client.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "password": "brand new passphrase here",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 302
    assert client.get("/my-learning").status_code == 200
    assert other_device.get("/my-learning").status_code == 302


def test_change_email_by_confirmed_link(client, login, csrf, make_user, ctx):
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
    assert client.get(link_in(last_mail("moved@example.org"))).status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "moved@example.org"


def test_profile_saves_taxonomy_and_refuses_odd_values(client, login, csrf, make_user, taxonomy):
    user = make_user()
    login(client, user)
    sector = taxonomy["sectors"]["education"]
    response = client.post(
        "/account",
        data={
            "name": "Kim",
            "sector_id": str(sector.id),
            "profession_id": "",
            "region_id": "",
            "employer": "A school",
            "regulator": "hcpc",
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 302
    bad = client.post(
        "/account",
        data={"name": "Kim", "sector_id": "abc", "regulator": "xyz", "csrf_token": csrf(client)},
    )
    assert bad.status_code == 422
    db.session.expire_all()
    saved = db.session.get(User, user.id)
    assert (saved.sector_id, saved.regulator, saved.employer) == (sector.id, "hcpc", "A school")


def test_create_curator_command(runner, make_user, ctx):
    user = make_user("boss@example.org")
    result = runner.invoke(args=["users", "create-curator", "boss@example.org"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["users", "create-curator", "new@example.org", "--name", "New Curator"],
        input="a long curator passphrase\na long curator passphrase\n",
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(User, user.id).is_curator
    assert services.find_user("new@example.org").is_curator


def test_sessions_expire(app, client, login, make_user):
    from academy.accounts.models import AuthSession

    login(client, make_user())
    assert client.get("/my-learning").status_code == 200
    for row in db.session.scalars(select(AuthSession)):
        row.created_at = utcnow() - timedelta(days=15)
    db.session.commit()
    assert client.get("/my-learning").status_code == 302
