"""``flask mail send`` and ``flask mail send-reminders``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from academy.extensions import db


@click.group("mail")
def mail_group() -> None:
    """Send the mail outbox and reminders."""


@mail_group.command("send")
@click.option("--all", "include_waiting", is_flag=True, help="Retry now, not at the next retry.")
@with_appcontext
def send_command(include_waiting: bool) -> None:
    """Send every message due in the outbox (run it from cron every few minutes)."""
    from academy.mail.outbox import send_pending

    report = send_pending(include_waiting=include_waiting)
    click.echo(f"Sent {report.sent}; {report.failed} to retry; {report.given_up} given up.")


@mail_group.command("send-reminders")
@click.option("--days", type=int, default=None, help="Remind this many days ahead (default 2).")
@with_appcontext
def send_reminders_command(days: int | None) -> None:
    """Queue a reminder for each learner whose cohort starts soon, once, then send the outbox."""
    from flask import current_app

    from academy.enrolment.services import queue_reminders
    from academy.mail.outbox import send_pending

    ahead = days if days is not None else float(current_app.config["REMINDER_DAYS"])
    count = queue_reminders(ahead)
    db.session.commit()
    report = send_pending()
    click.echo(f"Queued {count} reminder(s); sent {report.sent}; {report.failed} to retry.")
