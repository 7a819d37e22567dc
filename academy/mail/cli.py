"""``flask mail send``. (``flask mail send-reminders`` is added by ``academy.enrolment.cli``:
reminders are about places, which mail knows nothing of.)"""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("mail")
def mail_group() -> None:
    """Send the mail outbox (and, added by enrolment, reminders)."""


@mail_group.command("send")
@click.option("--all", "include_waiting", is_flag=True, help="Retry now, not at the next retry.")
@with_appcontext
def send_command(include_waiting: bool) -> None:
    """Send every message due in the outbox (run it from cron every few minutes)."""
    from academy.mail.outbox import send_pending

    report = send_pending(include_waiting=include_waiting)
    click.echo(f"Sent {report.sent}; {report.failed} to retry; {report.given_up} given up.")
