"""``flask enrolment send-reminders`` (also ``flask mail send-reminders``, the name cron and the
README already use): queue a reminder for each learner whose cohort starts soon, then send."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from academy.enrolment.services import queue_reminders
from academy.extensions import db
from academy.mail.outbox import send_pending


@click.group("enrolment")
def enrolment_group() -> None:
    """Places on cohorts: reminders."""


@click.command("send-reminders")
@click.option("--days", type=int, default=None, help="Remind this many days ahead (default 2).")
@with_appcontext
def send_reminders_command(days: int | None) -> None:
    """Queue a reminder for each learner whose cohort starts soon, once, then send the outbox."""
    ahead = days if days is not None else float(current_app.config["REMINDER_DAYS"])
    count = queue_reminders(ahead)
    db.session.commit()
    report = send_pending()
    click.echo(
        f"Queued {count} reminder{'' if count == 1 else 's'}; sent {report.sent};"
        f" {report.failed} to retry."
    )


enrolment_group.add_command(send_reminders_command)
