"""Every route, every role: the expected status code, from one table.

Adding a route means adding one line to ``ROUTES``; a route with no line fails
``test_every_route_has_an_entry``. Paths may use the placeholders filled in by ``world``.
"""

from __future__ import annotations

import pytest

from academy.enrolment import services
from academy.extensions import db

ROLES = ("anonymous", "learner_a", "learner_b", "staff_x", "staff_y", "curator")


def same(code: int) -> tuple[int, ...]:
    return (code,) * len(ROLES)


def users(anonymous: int, others: int) -> tuple[int, ...]:
    return (anonymous,) + (others,) * (len(ROLES) - 1)


OPEN = same(200)
LOGGED_IN = users(302, 200)  # anonymous visitors are sent to log in
ONLY_A = (302, 200, 404, 404, 404, 404)  # learner A's own things: others get "not found"
ONLY_A_POST = (302, 303, 404, 404, 404, 404)

# (endpoint, method): (path, expected codes for ROLES in order)
ROUTES: dict[tuple[str, str], tuple[str, tuple[int, ...]]] = {
    ("main.home", "GET"): ("/", OPEN),
    ("main.escalator", "GET"): ("/escalator", OPEN),
    ("static", "GET"): ("/static/css/site.css", OPEN),
    ("catalogue.course_list", "GET"): ("/courses", OPEN),
    ("catalogue.course_detail", "GET"): ("/courses/{course}", OPEN),
    ("catalogue.course_feed", "GET"): ("/courses/feed.atom", OPEN),
    ("catalogue.programme_list", "GET"): ("/programmes", OPEN),
    ("api.courses", "GET"): ("/api/v1/courses", OPEN),
    ("api.course", "GET"): ("/api/v1/courses/{course_id}", OPEN),
    ("api.openapi", "GET"): ("/api/v1/openapi.json", OPEN),
    ("catalogue.programme_detail", "GET"): ("/programmes/no-such-programme", same(404)),
    ("providers.provider_list", "GET"): ("/providers", OPEN),
    ("providers.provider_detail", "GET"): ("/providers/{provider}", OPEN),
    ("accounts.register", "GET"): ("/register", users(200, 302)),
    ("accounts.register", "POST"): ("/register", users(422, 302)),
    ("accounts.confirm", "GET"): ("/register/confirm/not-a-token", same(400)),
    ("accounts.login", "GET"): ("/login", users(200, 302)),
    ("accounts.login", "POST"): ("/login", users(422, 302)),
    ("accounts.forgot_password", "GET"): ("/forgot-password", OPEN),
    ("accounts.forgot_password", "POST"): ("/forgot-password", same(422)),
    ("accounts.reset_password", "GET"): ("/reset-password/not-a-token", same(400)),
    ("accounts.reset_password", "POST"): ("/reset-password/not-a-token", same(400)),
    ("accounts.account", "GET"): ("/account", LOGGED_IN),
    ("accounts.account", "POST"): ("/account", users(302, 302)),  # nothing sent: nothing changes
    ("accounts.change_password", "GET"): ("/account/password", LOGGED_IN),
    ("accounts.change_password", "POST"): ("/account/password", users(302, 422)),
    ("accounts.change_email", "GET"): ("/account/email", LOGGED_IN),
    ("accounts.change_email", "POST"): ("/account/email", users(302, 422)),
    ("accounts.confirm_email_change", "GET"): ("/account/email/confirm/bad", same(400)),
    ("accounts.reset_calendar", "POST"): ("/account/calendar-address", same(302)),
    ("accounts.logout", "POST"): ("/logout", same(302)),
    ("enrolment.my_learning", "GET"): ("/my-learning", LOGGED_IN),
    ("enrolment.enrolment_detail", "GET"): ("/my-learning/{enrolment_a}", ONLY_A),
    ("enrolment.enrolment_calendar", "GET"): ("/my-learning/{enrolment_a}/calendar.ics", ONLY_A),
    ("enrolment.access_needs", "POST"): ("/my-learning/{enrolment_a}/access-needs", ONLY_A_POST),
    ("enrolment.withdraw", "POST"): ("/my-learning/{enrolment_a_other}/withdraw", ONLY_A_POST),
    ("enrolment.calendar_feed", "GET"): ("/calendar/not-a-real-token.ics", same(404)),
    ("enrolment.enrol", "POST"): ("/cohorts/{spare_cohort}/enrol", users(302, 303)),
    ("enrolment.request_place", "GET"): ("/cohorts/{cohort}/request", LOGGED_IN),
    ("enrolment.request_place", "POST"): ("/cohorts/{cohort}/request", users(302, 422)),
    ("enrolment.roster", "GET"): (
        "/provider/cohorts/{cohort}/learners",
        (302, 403, 403, 200, 403, 403),
    ),
}


@pytest.fixture
def world(app, make_provider, make_course, make_cohort, make_user):
    """Two providers, a course of X's with cohorts, and a user per role; A has two places."""
    x, y = make_provider("Provider X"), make_provider("Provider Y")
    course = make_course(provider=x)
    cohort, other, spare = (make_cohort(course, capacity=5) for _ in range(3))
    people = {
        "learner_a": make_user(),
        "learner_b": make_user(),
        "staff_x": make_user(staff_of=x),
        "staff_y": make_user(staff_of=y),
        "curator": make_user(curator=True),
    }
    enrolment_a = services.enrol(people["learner_a"], cohort.id, access_needs="Step-free access")
    enrolment_a_other = services.enrol(people["learner_a"], other.id)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False  # the matrix is about who may; CSRF is tested apart
    return {
        "people": people,
        "values": {
            "course": course.slug,
            "course_id": course.id,
            "provider": x.slug,
            "cohort": cohort.id,
            "spare_cohort": spare.id,
            "enrolment_a": enrolment_a.id,
            "enrolment_a_other": enrolment_a_other.id,
        },
    }


def test_every_route_has_an_entry(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert sorted(routes - ROUTES.keys()) == [], "add these routes to ROUTES"
    assert sorted(ROUTES.keys() - routes) == [], "these ROUTES no longer exist"


def test_each_role_gets_the_expected_status_on_every_route(app, world, login):
    failures = []
    # GETs first, then POSTs (which may change things, such as A's second place)
    ordered = sorted(ROUTES.items(), key=lambda item: item[0][1] != "GET")
    for index, role in enumerate(ROLES):
        client = app.test_client()
        if role != "anonymous":
            login(client, world["people"][role])
        for (endpoint, method), (path, codes) in ordered:
            if endpoint == "accounts.logout":
                continue  # done last: it ends the session
            url = path.format(**world["values"])
            data = {"probe": "1"} if method == "POST" else None  # a form, though an empty one
            response = client.open(url, method=method, data=data)
            response.close()
            status = response.status_code
            if status != codes[index]:
                failures.append(f"{role} {method} {url} ({endpoint}): {status} != {codes[index]}")
        path, codes = ROUTES[("accounts.logout", "POST")]
        assert client.post(path).status_code == codes[index]
    assert failures == []


def test_learner_a_never_sees_b_s_notes_or_feed(app, world, login):
    client = app.test_client()
    login(client, world["people"]["learner_b"])
    a = world["people"]["learner_a"]
    for path in ("/my-learning", "/courses/{course}", "/account"):
        page = client.get(path.format(**world["values"])).get_data(as_text=True)
        assert "Step-free access" not in page
        assert a.calendar_token not in page
    staff = app.test_client()
    login(staff, world["people"]["staff_x"])
    roster = staff.get("/provider/cohorts/{cohort}/learners".format(**world["values"]))
    assert "Step-free access" in roster.get_data(as_text=True)
