"""No input, however odd, makes an account or enrolment page fail with a 500."""

from __future__ import annotations

import pytest

from academy.enrolment import services
from academy.extensions import db

ODD_VALUES = [
    "",
    "   ",
    "a\x00b",
    "x" * 20_000,
    "\u202e\u0000\ufffd\U0001f600",  # right-to-left override, NUL, replacement, emoji
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "-1",
    "99999999999999999999999",
]
FIELDS = (
    "name",
    "email",
    "password",
    "current_password",
    "sector_id",
    "profession_id",
    "region_id",
    "employer",
    "regulator",
    "access_needs",
    "reason",
)


@pytest.mark.parametrize("value", ODD_VALUES, ids=range(len(ODD_VALUES)))
def test_odd_input_never_fails(app, client, login, make_course, make_cohort, make_user, value):
    app.config["WTF_CSRF_ENABLED"] = False
    cohort = make_cohort(make_course(), capacity=3)
    user = make_user()
    enrolment = services.enrol(user, cohort.id)
    db.session.commit()
    data = {field: value for field in FIELDS}
    anonymous = app.test_client()
    for path in ("/register", "/login", "/forgot-password", f"/reset-password/{value[:50]}x"):
        assert anonymous.post(path, data=data).status_code < 500, path
    login(client, user)
    for path in (
        "/account",
        "/account/password",
        "/account/email",
        f"/cohorts/{cohort.id}/request",
        f"/my-learning/{enrolment.id}/access-needs",
        f"/cohorts/{cohort.id}/enrol",
        f"/my-learning/{enrolment.id}/withdraw",
    ):
        assert client.post(path, data=data).status_code < 500, path
    for path in (
        f"/calendar/{value[:100]}x.ics",
        f"/login?next={value[:100]}",
        f"/register/confirm/{value[:100]}x",
        f"/account/email/confirm/{value[:100]}x",
    ):
        assert anonymous.get(path).status_code < 500, path


@pytest.mark.parametrize("odd", ["٣", "²", "2147483648", "1e3"])
def test_a_profile_choice_must_be_an_ascii_id(app, client, login, make_user, taxonomy, odd):
    """``int("٣")`` is 3: a choice is read only from ASCII digits within 32 bits."""
    app.config["WTF_CSRF_ENABLED"] = False
    user = make_user()
    login(client, user)
    assert 3 in {sector.id for sector in taxonomy["sectors"].values()}  # "٣" could pick it
    response = client.post("/account", data={"name": "Kim", "sector_id": odd, "regulator": ""})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(type(user), user.id).sector_id is None
