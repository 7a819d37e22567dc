"""Mail goes out after the commit from the outbox; a dead server never undoes an enrolment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from academy.db_types import utcnow
from academy.enrolment import services
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.mail.models import OutboxMessage
from academy.mail.outbox import send_pending
from tests.conftest import SMTPCatcher, free_port


def test_server_down_at_commit_enrolment_stands_and_mail_goes_later(
    app, client, login, csrf, make_course, make_cohort, make_user
):
    catcher = SMTPCatcher(free_port())  # not started: the server is down
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=catcher.port, MAIL_SEND_AFTER_REQUEST=True)
    cohort = make_cohort(make_course("KUF Awareness"), capacity=5)
    user = make_user()
    login(client, user)
    response = client.post(f"/cohorts/{cohort.id}/enrol", data={"csrf_token": csrf(client)})
    response.close()  # the server sends queued mail once the response is closed
    assert response.status_code == 303
    db.session.expire_all()
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id))
    assert enrolment.status == "enrolled"
    message = db.session.scalar(select(OutboxMessage))
    assert message.sent_at is None and message.attempts == 1
    assert "ConnectionRefused" in message.last_error

    catcher.start()
    try:
        result = app.test_cli_runner().invoke(args=["mail", "send", "--all"])
        assert result.exit_code == 0 and "Sent 1" in result.output
    finally:
        catcher.stop()
    [received] = catcher.messages
    assert received["To"] == user.email
    assert "You have a place: KUF Awareness" in received["Subject"]
    assert f"/my-learning/{enrolment.id}" in received.get_content()
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).sent_at is not None


def test_mail_sent_after_the_request_by_smtp(
    app, client, login, csrf, smtp_server, make_course, make_cohort, make_user
):
    app.config["MAIL_SEND_AFTER_REQUEST"] = True
    cohort = make_cohort(make_course(), capacity=1)
    login(client, make_user())
    client.post(f"/cohorts/{cohort.id}/enrol", data={"csrf_token": csrf(client)}).close()
    assert [m["Subject"].split(":")[0] for m in smtp_server.messages] == ["You have a place"]


def test_retry_waits_then_gives_up(app, ctx, make_user):
    from academy.mail import outbox

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_MAX_ATTEMPTS=2)
    user = make_user()
    outbox.queue(user.email, "email_changed", user=user, old="old@example.org")
    db.session.commit()
    now = utcnow()
    assert send_pending(now).failed == 1
    assert send_pending(now).failed == 0  # not due yet
    assert send_pending(now + timedelta(minutes=2)).given_up == 1


def test_without_a_server_mail_is_written_to_files(ctx, mail_dir, make_user):
    from academy.mail import outbox

    user = make_user()
    outbox.queue(user.email, "email_changed", user=user, old="old@example.org")
    db.session.commit()
    assert send_pending().sent == 1
    [path] = mail_dir.glob("*.eml")
    assert user.email in path.read_text()


def test_reminders_are_sent_once(app, runner, mail_dir, make_course, make_cohort, make_user):
    soon = make_cohort(make_course(), days=1.5, capacity=3)
    later = make_cohort(make_course(), days=20, capacity=3)
    user = make_user()
    services.enrol(user, soon.id)
    services.enrol(user, later.id)
    db.session.commit()
    first = runner.invoke(args=["mail", "send-reminders"])
    second = runner.invoke(args=["mail", "send-reminders"])
    assert "Queued 1 reminder" in first.output and "Queued 0 reminder" in second.output
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds.count("reminder") == 1


def test_change_and_cancellation_mail_reach_places_and_waitlist(
    ctx, make_course, make_cohort, make_user
):
    from datetime import timedelta as td

    cohort = make_cohort(make_course("PIE introduction"), capacity=1)
    holder, waiting, gone = make_user(), make_user(), make_user()
    services.enrol(holder, cohort.id)
    services.enrol(waiting, cohort.id)
    left = services.enrol(gone, cohort.id)
    services.withdraw(gone, left.id)
    db.session.commit()
    session = cohort.sessions[0]
    services.reschedule_session(
        session, session.starts_at + td(days=2), session.ends_at + td(days=2)
    )
    services.cancel_places(None, cohort.id, "The trainer is ill.")
    db.session.commit()
    rows = db.session.execute(
        select(OutboxMessage.kind, OutboxMessage.to_address, OutboxMessage.body).where(
            OutboxMessage.kind.in_(("session_changed", "cohort_cancelled"))
        )
    ).all()
    assert sorted((kind, to) for kind, to, _ in rows) == sorted(
        (kind, who.email)
        for kind in ("session_changed", "cohort_cancelled")
        for who in (holder, waiting)
    )
    assert any("The trainer is ill." in body for _, _, body in rows)


def test_mail_to_a_deleted_account_is_never_queued(app, ctx):
    from sqlalchemy import func, select

    from academy.extensions import db
    from academy.mail import outbox
    from academy.mail.models import OutboxMessage

    outbox.queue(
        "deleted-abc@deleted.invalid",
        "already_registered",
        user={"name": "Deleted learner"},
        login_url="/login",
    )
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_reminders_are_also_an_enrolment_command(
    app, runner, mail_dir, make_course, make_cohort, make_user
):
    soon = make_cohort(make_course(), days=1.5, capacity=3)
    services.enrol(make_user(), soon.id)
    db.session.commit()
    result = runner.invoke(args=["enrolment", "send-reminders"])
    assert "Queued 1 reminder;" in result.output
