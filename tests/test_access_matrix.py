"""Every route, every role: the expected status code, from one table.

Adding a route means adding one line to ``ROUTES``; a route with no line fails
``test_every_route_has_an_entry``. Paths may use the placeholders filled in by ``world``.
"""

from __future__ import annotations

import io

import pytest

from academy.credentials import openbadges
from academy.db_types import utcnow
from academy.enrolment import services
from academy.extensions import db
from academy.portfolio.evidence import add_evidence
from academy.portfolio.models import LearningRecordEntry

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
    # this world has no search index yet, so the server is honestly not ready for traffic
    ("ops.healthz", "GET"): ("/healthz", same(503)),
    ("static", "GET"): ("/static/css/site.css", OPEN),
    ("catalogue.course_list", "GET"): ("/courses", OPEN),
    ("search.help", "GET"): ("/search-help", OPEN),
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
    ("mail_preferences.choose", "GET"): ("/account/mail", LOGGED_IN),
    ("mail_preferences.choose", "POST"): ("/account/mail", users(302, 303)),
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
    ("enrolment.enrol", "GET"): ("/cohorts/{spare_cohort}/enrol", LOGGED_IN),
    ("enrolment.move", "POST"): ("/cohorts/{spare_cohort}/move", users(302, 303)),
    ("enrolment.withdraw", "GET"): ("/my-learning/{enrolment_a_other}/withdraw", ONLY_A),
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
    # no such invitation: refused with a message on the members page
    ("manage.cancel_invitation", "POST"): (
        "/provider/{provider}/invitations/999999/cancel",
        staff_x(303),
    ),
    ("manage.resend_invitation", "POST"): (
        "/provider/{provider}/invitations/999999/resend",
        staff_x(303),
    ),
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
    ("manage.course_repeats", "POST"): (
        "/provider/{provider}/courses/{course_id}/repeats",
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
    ("manage.withdraw_course", "POST"): (
        "/provider/{provider}/courses/{course_id}/withdraw",
        staff_x(303),
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
    # the world's cohort has one session, which stays: the page says why, the POST is refused
    ("manage.remove_session", "GET"): (
        "/provider/{provider}/cohorts/{cohort}/sessions/{session}/remove",
        STAFF_X,
    ),
    ("manage.remove_session", "POST"): (
        "/provider/{provider}/cohorts/{cohort}/sessions/{session}/remove",
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
    ("manage.undo_mark", "POST"): (
        "/provider/{provider}/cohorts/{cohort}/marks/{enrolment_a}/undo",
        staff_x(303),
    ),
    ("manage.import_template", "GET"): ("/provider/import-template.csv", OPEN),
    ("manage.import_guide", "GET"): ("/provider/import-guide.txt", OPEN),
    ("manage.import_courses", "GET"): ("/provider/{provider}/import", STAFF_X),
    ("manage.import_courses", "POST"): ("/provider/{provider}/import", staff_x(422)),
    ("manage.confirm_import", "POST"): ("/provider/{provider}/import/confirm", staff_x(303)),
    # Curators only.
    ("curation.queue", "GET"): ("/curation", CURATOR),
    ("curation.review", "GET"): ("/curation/courses/{course_id}", CURATOR),
    # nothing waits for review on this course: refused, with the review page again
    ("curation.approve", "POST"): ("/curation/courses/{course_id}/approve", curator(422)),
    ("curation.bulk", "POST"): ("/curation/bulk", curator(422)),  # nothing chosen
    ("curation.merge_terms", "POST"): ("/curation/taxonomy/sectors/merge", curator(422)),
    ("curation.reject", "POST"): ("/curation/courses/{course_id}/reject", curator(422)),
    ("curation.unpublish", "POST"): ("/curation/courses/{course_id}/unpublish", curator(422)),
    ("curation.providers", "GET"): ("/curation/providers", CURATOR),
    ("curation.verify", "POST"): ("/curation/providers/{provider_id}/verify", curator(303)),
    ("curation.taxonomy", "GET"): ("/curation/taxonomy", CURATOR),
    ("curation.add_term", "POST"): ("/curation/taxonomy/sectors", curator(422)),  # no name
    ("curation.change_term", "POST"): ("/curation/taxonomy/sectors/{sector_id}", curator(400)),
    ("curation.audit_log", "GET"): ("/curation/audit", CURATOR),
    # The portfolio dashboard and regulator views: each learner's own, no ids in the URL.
    ("portfolio_dashboard.dashboard", "GET"): ("/portfolio/dashboard", LOGGED_IN),
    ("portfolio_dashboard.regulator", "GET"): ("/portfolio/regulator", LOGGED_IN),
    # Share links: A's own link management; the link itself is public while it is live.
    ("portfolio_sharing.links", "GET"): ("/portfolio/share", LOGGED_IN),
    ("portfolio_sharing.links", "POST"): ("/portfolio/share", users(302, 422)),
    ("portfolio_sharing.revoke", "GET"): ("/portfolio/share/{share_link_a}/revoke", ONLY_A),
    ("portfolio_sharing.revoke", "POST"): ("/portfolio/share/{share_link_a}/revoke", ONLY_A_POST),
    ("portfolio_sharing.shared", "GET"): ("/shared/{share_token_a}", OPEN),
    ("portfolio_sharing.shared_evidence", "GET"): (
        "/shared/{share_token_a}/evidence/{shared_evidence_a}",
        OPEN,
    ),
    # Deleting one's account: the empty probe form is refused (no password, no tick).
    ("erasure.delete_account", "GET"): ("/account/delete", LOGGED_IN),
    ("erasure.delete_account", "POST"): ("/account/delete", users(302, 422)),
    # Portfolio exports (each learner downloads their own) and credentials.
    ("portfolio_exports.exports", "GET"): ("/portfolio/export", LOGGED_IN),
    ("portfolio_exports.pdf", "GET"): ("/portfolio/export.pdf", LOGGED_IN),
    ("portfolio_exports.csv", "GET"): ("/portfolio/export.csv", LOGGED_IN),
    ("portfolio_exports.json", "GET"): ("/portfolio/export.json", LOGGED_IN),
    ("portfolio_exports.clr", "GET"): ("/portfolio/clr.json", LOGGED_IN),
    ("portfolio_exports.data_zip", "GET"): ("/account/data.zip", LOGGED_IN),
    ("portfolio_exports.issue_credential", "POST"): (
        "/portfolio/export/entries/{verified_entry_a}/credential",
        ONLY_A_POST,
    ),
    ("portfolio_exports.download_credential", "GET"): (
        "/portfolio/export/credentials/{credential_a}.jwt",
        ONLY_A,
    ),
    ("portfolio_exports.revoke_credential", "GET"): (
        "/portfolio/export/credentials/{credential_a}/revoke",
        ONLY_A,
    ),
    ("portfolio_exports.revoke_credential", "POST"): (
        "/portfolio/export/credentials/{credential_a}/revoke",
        ONLY_A_POST,
    ),
    ("credentials.issuer", "GET"): ("/credentials/issuer", OPEN),
    ("credentials.jwks", "GET"): ("/credentials/keys.json", OPEN),
    ("credentials.credential", "GET"): ("/credentials/{credential_a}", OPEN),
    ("credentials.status", "GET"): ("/credentials/status/{credential_a}", OPEN),
    ("credentials.verify", "GET"): ("/credentials/verify", OPEN),
    ("credentials.verify", "POST"): ("/credentials/verify", same(422)),
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


def share_for(app, learner, make_entry, tmp_path) -> dict:
    """Two share links of ``learner`` (one to revoke, one to open) and an evidence file."""
    from datetime import timedelta

    from academy.portfolio import sharing
    from academy.portfolio.evidence_store import new_stored_name, path_for
    from academy.portfolio.models import EvidenceFile

    app.config["EVIDENCE_DIR"] = str(tmp_path / "evidence")
    entry = make_entry(learner, "Shared entry")
    evidence = EvidenceFile(
        entry_id=entry.id,
        user_id=learner.id,
        stored_name=new_stored_name(),
        filename="certificate.pdf",
        content_type="application/pdf",
        size=9,
        sha256="0" * 64,
    )
    db.session.add(evidence)
    db.session.flush()
    path_for(evidence).write_bytes(b"%PDF-1.4\n")
    expires = sharing.today() + timedelta(days=7)
    to_revoke, _ = sharing.create_link(learner, [entry.id], label="Revoke me", expires_on=expires)
    _, token = sharing.create_link(learner, [entry.id], label="Open me", expires_on=expires)
    db.session.commit()
    return {
        "share_link_a": to_revoke.id,
        "share_token_a": token,
        "shared_evidence_a": evidence.id,
    }


def tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(app, taxonomy, make_provider, make_course, make_cohort, make_user, make_entry, tmp_path):
    """Two providers, courses of X's with cohorts, and a user per role; A has two places, a
    verified entry with a credential, two self-recorded portfolio entries (one with two evidence
    files) and share links."""
    x, y = make_provider("Provider X"), make_provider("Provider Y")
    course = make_course(provider=x, allow_repeats=True)  # A holds places on two cohorts
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
    verified_entry_a = LearningRecordEntry(
        user_id=people["learner_a"].id,
        title="Verified course",
        completed_at=utcnow(),
        verified=True,
        course_id=course.id,
        provider_name="Provider X",
    )
    db.session.add(verified_entry_a)
    db.session.flush()
    credential_a = openbadges.issue(people["learner_a"], verified_entry_a)
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
            **share_for(app, people["learner_a"], make_entry, tmp_path),
            "verified_entry_a": verified_entry_a.id,
            "credential_a": credential_a.public_id,
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
    roster = staff.get("/provider/{provider}/cohorts/{cohort}".format(**world["values"]))
    assert "Step-free access" in roster.get_data(as_text=True)
