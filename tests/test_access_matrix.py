"""Every route, every role: the expected status code, from one table.

Adding a route means adding one line to ``ROUTES``; a route with no line fails
``test_every_route_has_an_entry``. Paths may use the placeholders filled in by ``world``.
"""

from __future__ import annotations

import io

import pytest

from academy.enrolment import services
from academy.extensions import db
from academy.portfolio.evidence import add_evidence

ROLES = ("anonymous", "learner_a", "learner_b", "staff_x", "staff_y", "curator")


def same(code: int) -> tuple[int, ...]:
    return (code,) * len(ROLES)


def users(anonymous: int, others: int) -> tuple[int, ...]:
    return (anonymous,) + (others,) * (len(ROLES) - 1)


OPEN = same(200)
LOGGED_IN = users(302, 200)  # anonymous visitors are sent to log in
ONLY_A = (302, 200, 404, 404, 404, 404)  # learner A's own things: others get "not found"
ONLY_A_POST = (302, 303, 404, 404, 404, 404)


def staff_x(code: int) -> tuple[int, ...]:
    """Only provider X's (admin) staff member gets ``code``; other people are refused."""
    return (302, 403, 403, code, 403, 403)


def curator(code: int) -> tuple[int, ...]:
    return (302, 403, 403, 403, 403, code)


STAFF_X = staff_x(200)
CURATOR = curator(200)

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
    # Provider screens: X's admin only; Y's staff, learners and curators are refused.
    ("manage.dashboard", "GET"): ("/provider", LOGGED_IN),
    ("manage.new_organisation", "GET"): ("/provider/new", LOGGED_IN),
    ("manage.new_organisation", "POST"): ("/provider/new", users(302, 422)),
    ("manage.accept_invitation", "GET"): ("/provider/invitations/not-a-token", users(302, 400)),
    ("manage.accept_invitation", "POST"): ("/provider/invitations/not-a-token", users(302, 400)),
    ("manage.organisation", "GET"): ("/provider/{provider}", STAFF_X),
    ("manage.edit_organisation", "GET"): ("/provider/{provider}/details", STAFF_X),
    ("manage.edit_organisation", "POST"): ("/provider/{provider}/details", staff_x(422)),
    ("manage.members", "GET"): ("/provider/{provider}/members", STAFF_X),
    ("manage.invite", "POST"): ("/provider/{provider}/members/invite", staff_x(422)),
    # X's only admin may neither demote nor remove themselves: refused, nothing changes
    ("manage.toggle_admin", "POST"): (
        "/provider/{provider}/members/{staff_x_id}/admin",
        staff_x(303),
    ),
    ("manage.remove_member", "GET"): ("/provider/{provider}/members/{staff_x_id}/remove", STAFF_X),
    ("manage.remove_member", "POST"): (
        "/provider/{provider}/members/{staff_x_id}/remove",
        staff_x(303),
    ),
    ("manage.new_course", "GET"): ("/provider/{provider}/courses/new", STAFF_X),
    ("manage.new_course", "POST"): ("/provider/{provider}/courses/new", staff_x(422)),
    ("manage.course", "GET"): ("/provider/{provider}/courses/{course_id}", STAFF_X),
    ("manage.edit_course", "GET"): ("/provider/{provider}/courses/{course_id}/edit", STAFF_X),
    ("manage.edit_course", "POST"): (
        "/provider/{provider}/courses/{course_id}/edit",
        staff_x(422),
    ),
    ("manage.preview_course", "GET"): (
        "/provider/{provider}/courses/{course_id}/preview",
        STAFF_X,
    ),
    ("manage.submit_course", "POST"): (
        "/provider/{provider}/courses/{course_id}/submit",
        staff_x(303),
    ),
    ("manage.archive_course", "GET"): (
        "/provider/{provider}/courses/{spare_course_id}/archive",
        STAFF_X,
    ),
    ("manage.archive_course", "POST"): (
        "/provider/{provider}/courses/{spare_course_id}/archive",
        staff_x(303),
    ),
    ("manage.new_cohort", "GET"): (
        "/provider/{provider}/courses/{course_id}/cohorts/new",
        STAFF_X,
    ),
    ("manage.new_cohort", "POST"): (
        "/provider/{provider}/courses/{course_id}/cohorts/new",
        staff_x(422),
    ),
    ("manage.cohort", "GET"): ("/provider/{provider}/cohorts/{cohort}", STAFF_X),
    ("manage.cohort_csv", "GET"): ("/provider/{provider}/cohorts/{cohort}/learners.csv", STAFF_X),
    ("manage.edit_cohort", "GET"): ("/provider/{provider}/cohorts/{cohort}/edit", STAFF_X),
    ("manage.edit_cohort", "POST"): ("/provider/{provider}/cohorts/{cohort}/edit", staff_x(303)),
    ("manage.add_session", "POST"): (
        "/provider/{provider}/cohorts/{cohort}/sessions",
        staff_x(422),
    ),
    ("manage.move_session", "GET"): (
        "/provider/{provider}/cohorts/{cohort}/sessions/{session}",
        STAFF_X,
    ),
    ("manage.move_session", "POST"): (
        "/provider/{provider}/cohorts/{cohort}/sessions/{session}",
        staff_x(422),
    ),
    ("manage.cancel_cohort", "GET"): (
        "/provider/{provider}/cohorts/{spare_course_cohort}/cancel",
        STAFF_X,
    ),
    ("manage.cancel_cohort", "POST"): (
        "/provider/{provider}/cohorts/{spare_course_cohort}/cancel",
        staff_x(303),
    ),
    ("manage.decide", "POST"): (
        "/provider/{provider}/cohorts/{cohort}/requests/{enrolment_a}",
        staff_x(303),
    ),
    ("manage.mark", "POST"): ("/provider/{provider}/cohorts/{cohort}/marks", staff_x(303)),
    ("manage.import_template", "GET"): ("/provider/import-template.csv", OPEN),
    ("manage.import_guide", "GET"): ("/provider/import-guide.txt", OPEN),
    ("manage.import_courses", "GET"): ("/provider/{provider}/import", STAFF_X),
    ("manage.import_courses", "POST"): ("/provider/{provider}/import", staff_x(422)),
    ("manage.confirm_import", "POST"): ("/provider/{provider}/import/confirm", staff_x(303)),
    # Curators only.
    ("curation.queue", "GET"): ("/curation", CURATOR),
    ("curation.review", "GET"): ("/curation/courses/{course_id}", CURATOR),
    ("curation.approve", "POST"): ("/curation/courses/{course_id}/approve", curator(303)),
    ("curation.reject", "POST"): ("/curation/courses/{course_id}/reject", curator(422)),
    ("curation.unpublish", "POST"): ("/curation/courses/{course_id}/unpublish", curator(422)),
    ("curation.providers", "GET"): ("/curation/providers", CURATOR),
    ("curation.verify", "POST"): ("/curation/providers/{provider_id}/verify", curator(303)),
    ("curation.taxonomy", "GET"): ("/curation/taxonomy", CURATOR),
    ("curation.add_term", "POST"): ("/curation/taxonomy/sectors", curator(303)),
    ("curation.change_term", "POST"): ("/curation/taxonomy/sectors/{sector_id}", curator(400)),
    ("curation.audit_log", "GET"): ("/curation/audit", CURATOR),
    # The portfolio: learner A's entries and evidence; everyone else's ids are "not found".
    ("portfolio.entries", "GET"): ("/portfolio", LOGGED_IN),
    ("portfolio.new_entry", "GET"): ("/portfolio/entries/new", LOGGED_IN),
    ("portfolio.new_entry", "POST"): ("/portfolio/entries/new", users(302, 422)),
    ("portfolio.entry", "GET"): ("/portfolio/entries/{entry_a}", ONLY_A),
    ("portfolio.edit_entry", "GET"): ("/portfolio/entries/{entry_a}/edit", ONLY_A),
    ("portfolio.edit_entry", "POST"): (
        "/portfolio/entries/{entry_a}/edit",
        (302, 422, 404, 404, 404, 404),
    ),
    ("portfolio.upload_evidence", "POST"): (
        "/portfolio/entries/{entry_a}/evidence",
        (302, 422, 404, 404, 404, 404),
    ),
    ("portfolio.evidence", "GET"): ("/portfolio/evidence/{evidence_a}", ONLY_A),
    ("portfolio.delete_evidence", "GET"): ("/portfolio/evidence/{evidence_a}/delete", ONLY_A),
    ("portfolio.delete_evidence", "POST"): (
        "/portfolio/evidence/{evidence_a_spare}/delete",
        ONLY_A_POST,
    ),
    ("portfolio.delete_entry", "GET"): ("/portfolio/entries/{entry_a}/delete", ONLY_A),
    ("portfolio.delete_entry", "POST"): (
        "/portfolio/entries/{entry_a_spare}/delete",
        ONLY_A_POST,
    ),
}


def tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(app, taxonomy, make_provider, make_course, make_cohort, make_user, make_entry):
    """Two providers, courses of X's with cohorts, and a user per role; A has two places, and
    two self-recorded portfolio entries, one with two evidence files."""
    x, y = make_provider("Provider X"), make_provider("Provider Y")
    course = make_course(provider=x)
    spare_course = make_course(provider=x)
    spare_course_cohort = make_cohort(spare_course)
    cohort, other, spare = (make_cohort(course, capacity=5) for _ in range(3))
    people = {
        "learner_a": make_user(),
        "learner_b": make_user(),
        "staff_x": make_user(staff_of=x, admin=True),
        "staff_y": make_user(staff_of=y),
        "curator": make_user(curator=True),
    }
    enrolment_a = services.enrol(people["learner_a"], cohort.id, access_needs="Step-free access")
    enrolment_a_other = services.enrol(people["learner_a"], other.id)
    db.session.commit()
    entry_a = make_entry(people["learner_a"], "Reflective practice group")
    entry_a_spare = make_entry(people["learner_a"], "Reading on trauma-informed care")
    evidence_a, evidence_a_spare = (
        add_evidence(people["learner_a"], entry_a, tiny_png(), name)
        for name in ("notes.png", "flipchart.png")
    )
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False  # the matrix is about who may; CSRF is tested apart
    return {
        "people": people,
        "values": {
            "course": course.slug,
            "course_id": course.id,
            "provider": x.slug,
            "provider_id": x.id,
            "spare_course_id": spare_course.id,
            "spare_course_cohort": spare_course_cohort.id,
            "session": cohort.sessions[0].id,
            "staff_x_id": people["staff_x"].id,
            "sector_id": next(iter(taxonomy["sectors"].values())).id,
            "cohort": cohort.id,
            "spare_cohort": spare.id,
            "enrolment_a": enrolment_a.id,
            "enrolment_a_other": enrolment_a_other.id,
            "entry_a": entry_a.id,
            "entry_a_spare": entry_a_spare.id,
            "evidence_a": evidence_a.id,
            "evidence_a_spare": evidence_a_spare.id,
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
