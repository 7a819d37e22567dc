"""Mail at every publishing step goes through the outbox and a real SMTP server, with a link to
act, and never to someone who turned that kind of mail off (/account/mail)."""

from __future__ import annotations

from academy.catalogue.models import Course
from academy.curation import services as curation
from academy.db_types import utcnow
from academy.extensions import db
from academy.mail.outbox import send_pending
from academy.mail.preferences import choose, wants
from academy.providers import courses as course_services
from academy.providers import services as provider_services


def received(smtp_server) -> dict[str, list]:
    send_pending()
    out: dict[str, list] = {}
    for message in smtp_server.messages:
        out.setdefault(message["To"], []).append(message)
    return out


def test_curators_hear_of_a_new_organisation_unless_they_opted_out(ctx, smtp_server, make_user):
    keen = make_user("keen@academy.example", curator=True)
    quiet = make_user("quiet@academy.example", curator=True)
    choose(quiet, {"new_organisations": False})
    founder = make_user("founder@trust.example")
    provider_services.create_organisation(
        founder, name="Riverside Trust", website=None, contact_email=None, description=""
    )
    db.session.commit()
    mail = received(smtp_server)
    assert set(mail) == {keen.email}
    [message] = mail[keen.email]
    assert "Riverside Trust" in message["Subject"]
    assert "/curation/providers" in message.get_content()


def test_staff_hear_their_organisation_is_verified(ctx, smtp_server, make_provider, make_user):
    provider = make_provider("Hillside")
    staff = make_user("staff@hillside.example", staff_of=provider)
    curation.verify_provider(make_user(curator=True), provider)
    db.session.commit()
    [message] = received(smtp_server)[staff.email]
    assert "Hillside is verified" in message["Subject"]
    assert f"/provider/{provider.slug}" in message.get_content()


def test_approval_and_rejection_of_a_first_submission_are_mailed(
    ctx, smtp_server, make_provider, make_course, make_user
):
    provider = make_provider("Valley", verified_at=utcnow())
    staff = make_user("staff@valley.example", staff_of=provider)
    curator = make_user(curator=True)
    one = make_course("First", provider=provider, status="draft")
    two = make_course("Second", provider=provider, status="draft")
    for course in (one, two):
        course_services.submit_course(staff, course)
    curation.approve(curator, one)
    curation.reject(curator, two, "Say who it is for.")
    db.session.commit()
    subjects = {m["Subject"]: m.get_content() for m in received(smtp_server)[staff.email]}
    assert "First: published" in subjects
    assert "Second: sent back" in subjects
    assert "Say who it is for." in subjects["Second: sent back"]
    assert f"/provider/{provider.slug}/courses/{two.id}" in subjects["Second: sent back"]


def test_immediate_submission_mail_is_a_choice_off_by_default(
    ctx, smtp_server, make_provider, make_course, make_user
):
    provider = make_provider("Moor")
    staff = make_user(staff_of=provider)
    default = make_user("default@academy.example", curator=True)
    keen = make_user("keen@academy.example", curator=True)
    choose(keen, {"submission_each": True})
    assert not wants(default, "submission_each") and wants(keen, "submission_each")
    course = make_course("Waiting", provider=provider, status="draft")
    course_services.submit_course(staff, course)
    db.session.commit()
    mail = received(smtp_server)
    assert set(mail) == {keen.email}
    assert f"/curation/courses/{course.id}" in mail[keen.email][0].get_content()


def test_the_digest_command_mails_curators_who_want_it(
    app, runner, smtp_server, make_provider, make_course, make_user
):
    provider = make_provider("Fen")
    digest = make_user("digest@academy.example", curator=True)
    quiet = make_user("quiet@academy.example", curator=True)
    choose(quiet, {"submission_digest": False})
    db.session.commit()
    assert runner.invoke(args=["curation", "digest"]).exit_code == 0
    assert smtp_server.messages == []  # nothing waits: nothing is sent
    make_course("One", provider=provider, status="submitted", review_requested_at=utcnow())
    make_course("Two", provider=provider, status="submitted", review_requested_at=utcnow())
    result = runner.invoke(args=["curation", "digest"])
    assert result.exit_code == 0, result.output
    [message] = smtp_server.messages
    assert message["To"] == digest.email
    assert message["Subject"] == "2 courses waiting for review"
    assert "new listings: 2" in message.get_content() and "/curation" in message.get_content()


def test_the_approve_command_publishes_an_organisations_waiting_courses_as_one_decision(
    app, runner, smtp_server, make_provider, make_course, make_user
):
    from academy.audit import AuditEntry

    provider = make_provider("Fen", slug="fen")
    other = make_provider("Marsh", slug="marsh")
    make_user("curator@academy.example", curator=True)
    make_user("learner@example.org")
    for title in ("One", "Two"):
        make_course(title, provider=provider, status="submitted", review_requested_at=utcnow())
    theirs = make_course("Three", provider=other, status="submitted", review_requested_at=utcnow())

    def approve(*extra: str):
        return runner.invoke(args=["curation", "approve", "--provider", "fen", *extra])

    # refusals change nothing and say what to do
    unknown = approve("--curator", "nobody@academy.example")
    assert unknown.exit_code != 0 and "create-curator" in unknown.output
    learner = approve("--curator", "learner@example.org")
    assert learner.exit_code != 0
    unverified = approve("--curator", "curator@academy.example")
    assert unverified.exit_code != 0 and "--verify-provider" in unverified.output
    assert db.session.scalar(db.select(db.func.count(AuditEntry.id))) == 0

    result = approve("--curator", "curator@academy.example", "--verify-provider")
    assert result.exit_code == 0, result.output
    assert 'Approved 2 courses of "Fen".' in result.output
    db.session.expire_all()
    courses = db.session.scalars(db.select(Course).where(Course.provider_id == provider.id))
    assert {course.title: course.status for course in courses} == {
        "One": "published",
        "Two": "published",
    }
    assert theirs.status == "submitted"  # another organisation's courses are not touched
    again = approve("--curator", "curator@academy.example")
    assert again.exit_code != 0 and "no longer waiting" in again.output


def test_completion_mail_kinds_are_optional_and_have_templates(app, ctx, make_user):
    from types import SimpleNamespace

    from academy.mail.outbox import queue

    learner = make_user("learner@example.org")
    choose(learner, {"completions": False})
    assert not wants(learner, "completions")
    course = SimpleNamespace(
        title="KUF", provider=SimpleNamespace(name="Trust", contact_email=None)
    )
    message = queue(learner.email, "completion_recorded", user=learner, course=course,
                    credential_url="https://example.org/c/1")  # fmt: skip
    assert "Completion recorded: KUF" == message.subject
    assert "https://example.org/c/1" in message.body


def test_the_mail_page_saves_choices(client, login, csrf, make_user, make_provider):
    user = make_user(staff_of=make_provider())
    login(client, user)
    page = client.get("/account/mail").get_data(as_text=True)
    assert "the curators&#39; decisions" in page or "curators' decisions" in page
    assert "(curators)" not in page  # a curator's choices are not offered to provider staff
    response = client.post("/account/mail", data={"csrf_token": csrf(client), "completions": "y"})
    assert response.status_code == 303
    assert wants(user, "completions") and not wants(user, "provider_updates")
