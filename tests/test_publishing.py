"""Versions of a course: learners see the approved version until a curator approves an edit;
providers see their pending edit; every screen renders in every publishing state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from academy.catalogue import states
from academy.catalogue.models import Course
from academy.curation import services as curation
from academy.db_types import utcnow
from academy.extensions import db
from academy.mail.models import OutboxMessage
from academy.mail.outbox import send_pending
from academy.providers import courses as course_services


def values_of(course: Course, **changes) -> dict:
    """What the editor would post: the version it shows (the pending edit, if any), changed."""
    values = course_services.editor_values(course)
    values.update(changes)
    return values


@pytest.fixture
def published(make_provider, make_course, make_user):
    provider = make_provider("Trust", slug="trust", verified_at=utcnow())
    staff = make_user("staff@trust.example", name="Sam Staff", staff_of=provider, admin=True)
    curator = make_user("cara@academy.example", name="Cara Curator", curator=True)
    course = make_course(
        "Understanding trauma",
        provider=provider,
        summary="The approved summary about trauma.",
        slug="understanding-trauma",
    )
    return provider, staff, curator, course


def test_every_state_and_move_is_in_the_one_table():
    targets = set(states.TRANSITIONS.values())
    sources = {state for state, _ in states.TRANSITIONS}
    assert targets | sources == set(states.STATES)
    assert not any(state == "archived" for state, _ in states.TRANSITIONS)
    # what needs review: the text and the classification, never the running of a course
    assert {"title", "summary", "description", "step", "sectors"} <= set(states.REVIEWED_FIELDS)
    assert "cohorts" in states.UNREVIEWED_THINGS and "places" in states.UNREVIEWED_THINGS
    assert set(states.REVIEWED_FIELDS) | set(states.UNREVIEWED_FIELDS) == set(
        course_services.EDITABLE
    )


def test_an_edit_waits_while_learners_keep_the_approved_version(
    client, app, indexed, published, login, csrf, make_cohort
):
    provider, staff, curator, course = published
    make_cohort(course)
    course_services.update_course(
        staff, course, values_of(course, summary="An unreviewed summary about lanterns.")
    )
    db.session.commit()
    assert course.state == "edit_pending" and course.summary.startswith("The approved")

    public = client.get("/courses/understanding-trauma").get_data(as_text=True)
    assert "The approved summary" in public and "lanterns" not in public
    api = client.get(f"/api/v1/courses/{course.id}").get_json()
    assert api["summary"] == "The approved summary about trauma."
    assert client.get("/api/v1/courses?q=lanterns").get_json()["results"] == []

    login(client, staff)
    page = client.get(f"/provider/trust/courses/{course.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Published, edit waiting for review" in text and "lanterns" in text
    # cohorts stay reachable throughout
    assert "Add a cohort" in text
    edit = client.get(f"/provider/trust/courses/{course.id}/edit").get_data(as_text=True)
    assert "An unreviewed summary about lanterns." in edit  # the editor shows the pending edit

    client.post(f"/provider/trust/courses/{course.id}/withdraw", data={"csrf_token": csrf(client)})
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.state == "published" and course.pending_edit is None


def test_rejecting_an_edit_keeps_the_live_version_and_mails_the_reason(
    client, app, published, login, csrf, smtp_server
):
    provider, staff, curator, course = published
    course_services.update_course(staff, course, values_of(course, title="A renamed course"))
    db.session.commit()
    login(client, curator)
    review = client.get(f"/curation/courses/{course.id}").get_data(as_text=True)
    assert "What the edit changes on the live course" in review
    seen = curation.review_token(course)
    response = client.post(
        f"/curation/courses/{course.id}/reject",
        data={"csrf_token": csrf(client), "reason": "Keep the title learners know.", "seen": seen},
    )
    assert response.status_code == 303
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.state == "edit_rejected" and course.title == "Understanding trauma"
    assert client.get("/courses/understanding-trauma").status_code == 200
    send_pending()
    [mail] = smtp_server.messages
    assert mail["To"] == "staff@trust.example"
    assert "edit not approved" in mail["Subject"]
    body = mail.get_content()
    assert "Keep the title learners know." in body
    assert f"/provider/trust/courses/{course.id}" in body

    # the provider changes the edit and sends it again: a resubmission, with the earlier reason
    course_services.update_course(staff, course, values_of(course, title="Trauma, understood"))
    db.session.commit()
    assert course.state == "edit_pending"
    assert curation.kind_of_course(course) == "resubmission"
    review = client.get(f"/curation/courses/{course.id}").get_data(as_text=True)
    assert "Earlier reasons given" in review and "Keep the title learners know." in review


def test_a_stale_review_form_changes_nothing(client, published, login, csrf):
    provider, staff, curator, course = published
    course_services.update_course(staff, course, values_of(course, summary="First edit."))
    db.session.commit()
    seen = curation.review_token(course)
    course_services.update_course(staff, course, values_of(course, summary="Second edit."))
    db.session.commit()
    login(client, curator)
    response = client.post(
        f"/curation/courses/{course.id}/approve", data={"csrf_token": csrf(client), "seen": seen}
    )
    assert response.status_code == 422
    assert "changed this course after you opened it" in response.get_data(as_text=True)
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.state == "edit_pending" and course.summary == "The approved summary about trauma."


def test_approving_an_edit_makes_it_public_everywhere(client, indexed, published, login, csrf):
    provider, staff, curator, course = published
    course_services.update_course(
        staff, course, values_of(course, summary="A reviewed summary about lanterns.")
    )
    db.session.commit()
    login(client, curator)
    response = client.post(
        f"/curation/courses/{course.id}/approve",
        data={"csrf_token": csrf(client), "seen": curation.review_token(course)},
    )
    assert response.status_code == 303
    public = client.get("/courses/understanding-trauma").get_data(as_text=True)
    assert "A reviewed summary about lanterns." in public
    found = client.get("/api/v1/courses?q=lanterns").get_json()["results"]
    assert [c["id"] for c in found] == [course.id]


def test_rejecting_a_first_submission_leaves_it_unpublished(published, make_course, make_user):
    provider, staff, curator, _ = published
    course = make_course("New one", provider=provider, status="draft")
    course_services.submit_course(staff, course)
    curation.reject(curator, course, "Add the dates.")
    db.session.commit()
    assert course.state == "rejected" and not course.state_info.public


def test_a_curators_rename_is_not_a_providers_change(published, taxonomy):
    provider, staff, curator, course = published
    course.sectors = [taxonomy["sectors"]["education"]]
    db.session.commit()
    course_services.update_course(staff, course, values_of(course, summary="Edited."))
    db.session.commit()
    curation.rename_term(
        curator, "sectors", taxonomy["sectors"]["education"].id, "Education and schools"
    )
    db.session.commit()
    assert set(course_services.changes_since_approval(course)) == {"summary"}


def _put_in_state(state, make_course, provider, staff, curator):
    status = "published" if state in ("published", "edit_pending", "edit_rejected") else "draft"
    course = make_course(f"A course {state}", provider=provider, status=status)
    if state in ("submitted", "rejected"):
        course_services.submit_course(staff, course)
    if state == "rejected":
        curation.reject(curator, course, "Not yet.")
    if state in ("edit_pending", "edit_rejected"):
        course_services.update_course(staff, course, values_of(course, summary="Pending words."))
    if state == "edit_rejected":
        curation.reject(curator, course, "Not these words.")
    if state == "archived":
        course_services.archive_course(staff, course)
    db.session.commit()
    assert course.state == state
    return course


@pytest.mark.parametrize("state", list(states.STATES))
def test_every_provider_and_curator_route_renders_in_each_state(
    app, client, published, make_course, make_cohort, make_user, login, taxonomy, state
):
    provider, staff, curator, _ = published
    course = _put_in_state(state, make_course, provider, staff, curator)
    cohort = make_cohort(course)
    args = {
        "slug": provider.slug,
        "course_id": course.id,
        "cohort_id": cohort.id,
        "session_id": cohort.sessions[0].id,
        "user_id": staff.id,
        "enrolment_id": 999_999,
        "token": "no-such-invitation",
        "kind": "sectors",
        "term_id": taxonomy["sectors"]["education"].id,
        "provider_id": provider.id,
    }
    app.config["WTF_CSRF_ENABLED"] = False
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("manage", "curation")
    ]
    staff_client, curator_client = app.test_client(), app.test_client()
    login(staff_client, staff)
    login(curator_client, curator)
    failures = []
    for method in ("GET", "POST"):
        for rule in sorted(rules, key=lambda r: r.rule):
            if method not in rule.methods:
                continue
            path = rule.rule
            for name, value in args.items():
                path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
            who = curator_client if rule.endpoint.startswith("curation.") else staff_client
            response = who.open(path, method=method, data={})
            response.close()
            if response.status_code >= 500:
                failures.append(f"{method} {path}: {response.status_code}")
    assert failures == []


def test_the_course_page_says_the_state(client, published, make_course, login):
    provider, staff, curator, _ = published
    login(client, staff)
    for state in states.STATES:
        course = _put_in_state(state, make_course, provider, staff, curator)
        page = client.get(f"/provider/trust/courses/{course.id}").get_data(as_text=True)
        assert states.STATES[state].label in page, state


def test_provider_decisions_honour_the_mail_choice(published, make_user):
    from academy.mail.preferences import choose

    provider, staff, curator, course = published
    other = make_user("quiet@trust.example", staff_of=provider)
    choose(other, {"provider_updates": False})
    course_services.update_course(staff, course, values_of(course, summary="Mail me."))
    curation.approve(curator, course)
    db.session.commit()
    to = set(db.session.scalars(select(OutboxMessage.to_address)))
    assert to == {"staff@trust.example"}


def test_a_resubmission_shows_what_changed_since_it_was_sent_back(
    client, published, make_course, login
):
    provider, staff, curator, _ = published
    course = make_course("Fresh listing", provider=provider, status="draft", summary="First go.")
    course_services.submit_course(staff, course)
    curation.reject(curator, course, "Say who it is for.")
    course_services.update_course(
        staff, course, values_of(course, who_its_for="Housing support workers.")
    )
    course_services.submit_course(staff, course)
    db.session.commit()
    assert curation.kind_of_course(course) == "resubmission"
    login(client, curator)
    page = client.get(f"/curation/courses/{course.id}").get_data(as_text=True)
    assert "Changed since it was sent back" in page and "Say who it is for." in page
    since = page.split("Changed since it was sent back", 1)[1].split("</section>", 1)[0]
    assert "Housing support workers." in since and "First go." not in since
    assert "never approved before" not in page


def test_running_a_course_never_needs_review(client, published, login, csrf):
    """Cohorts, dates and places are changed at once on a published course with an edit
    waiting: nothing joins the queue, and the public sees the new cohort."""
    provider, staff, curator, course = published
    course_services.update_course(staff, course, values_of(course, summary="Waiting words."))
    db.session.commit()
    since = course.review_requested_at
    login(client, staff)
    response = client.post(
        f"/provider/trust/courses/{course.id}/cohorts/new",
        data={
            "csrf_token": csrf(client),
            "capacity": "12",
            "location": "Village hall, Haworth",
            "date": (utcnow() + timedelta(days=60)).date().isoformat(),
            "start_time": "09:30",
            "end_time": "16:00",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert len(course.cohorts) == 1 and course.cohorts[0].capacity == 12
    assert course.state == "edit_pending" and course.review_requested_at == since
    assert "Waiting words." not in client.get("/courses/understanding-trauma").get_data(
        as_text=True
    )
    assert "Haworth" in client.get("/courses/understanding-trauma").get_data(as_text=True)


def test_the_provider_previews_the_edit_and_the_public_page_stays_live(client, published, login):
    provider, staff, curator, course = published
    course_services.update_course(
        staff, course, values_of(course, title="Trauma, newly titled", summary="Edit words.")
    )
    db.session.commit()
    login(client, staff)
    preview = client.get(f"/provider/trust/courses/{course.id}/preview").get_data(as_text=True)
    assert "Trauma, newly titled" in preview and "Edit words." in preview
    assert "waiting for review" in preview
    live = client.get(f"/provider/trust/courses/{course.id}/preview?version=live")
    assert "The approved summary about trauma." in live.get_data(as_text=True)
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.title == "Understanding trauma" and course.state == "edit_pending"
    public = client.get("/courses/understanding-trauma").get_data(as_text=True)
    assert "Trauma, newly titled" not in public


ACTIONS = ("edit", "submit", "withdraw", "approve", "reject", "unpublish", "archive")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.sampled_from(ACTIONS), max_size=8))
def test_any_sequence_of_moves_follows_the_table_and_only_approval_changes_the_public_text(
    published, steps
):
    """Whatever the provider and curators do, in any order: each move succeeds exactly when
    ``states.TRANSITIONS`` allows it, lands in the state it names, and what the public reads
    changes only when a curator approves."""
    from academy.unit_of_work import DomainError

    provider, staff, curator, course = published
    course.status, course.pending_edit, course.review_requested_at = "draft", None, None
    course.summary, course.rejection_reason = "Version 0.", ""
    db.session.commit()
    calls = {
        "edit": lambda n: course_services.update_course(
            staff, course, values_of(course, summary=f"Version {n}.")
        ),
        "submit": lambda n: course_services.submit_course(staff, course),
        "withdraw": lambda n: course_services.withdraw(staff, course),
        "approve": lambda n: curation.approve(curator, course),
        "reject": lambda n: curation.reject(curator, course, "Not yet."),
        "unpublish": lambda n: curation.unpublish(curator, course, "Out of date."),
        "archive": lambda n: course_services.archive_course(staff, course),
    }
    for number, action in enumerate(steps, start=1):
        before = course.state
        public_before = course.summary if course.state_info.public else None
        expected = states.TRANSITIONS.get((before, action))
        try:
            calls[action](number)
        except DomainError:
            db.session.rollback()
            assert expected is None, (before, action)
            continue
        db.session.commit()
        assert expected is not None, (before, action)
        after = course.state
        if action == "edit" and before in ("published", "edit_pending", "edit_rejected"):
            assert after == "edit_pending"  # an edit of a published course always waits
        else:
            assert after == expected, (before, action, after)
        public_after = course.summary if course.state_info.public else None
        if action != "approve" and public_before is not None and public_after is not None:
            assert public_after == public_before, (before, action)
