"""Command-line entry points: ``flask seed``, ``flask taxonomy load``, ``flask curation
digest`` (and ``flask courses import``, ``flask search``, ``flask mail`` from their packages)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from academy.extensions import db


@click.command("seed")
@with_appcontext
@click.option(
    "--dir",
    "seed_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of seed files (default: the project's seed/).",
)
@click.option("--if-empty", is_flag=True, help="Do nothing when any course exists.")
def seed_command(seed_dir: Path | None, if_empty: bool) -> None:
    """Load the demonstration catalogue; adds only what is missing, so it is safe to rerun."""
    from academy.catalogue.models import Course
    from academy.seeding import seed_catalogue

    if if_empty and db.session.scalar(db.select(Course.id).limit(1)) is not None:
        click.echo("The catalogue already has courses: not seeding.")
        return
    _load(seed_catalogue, seed_dir, "Seeded", "Nothing to add: the catalogue is already seeded.")


def _load(loader, seed_dir: Path | None, done: str, nothing: str) -> None:
    """Run a seed loader in one transaction (a bad file changes nothing) and say what it added."""
    from academy.seeding import SeedError

    try:
        report = loader(seed_dir or Path(current_app.config["SEED_DIR"]))
    except SeedError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    if report.total == 0:
        click.echo(nothing)
    else:
        added = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in report.added.items())
        click.echo(f"{done} {added}.")


@click.group("taxonomy")
def taxonomy_group() -> None:
    """Reference data: escalator steps, sectors, professions, principles, delivery modes,
    regions."""


@taxonomy_group.command("load")
@with_appcontext
@click.option(
    "--dir",
    "seed_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding taxonomy.yaml (default: the project's seed/).",
)
def taxonomy_load_command(seed_dir: Path | None) -> None:
    """Install the taxonomy (no demonstration data); adds only what is missing, so every
    install and deploy runs it after ``flask db upgrade``."""
    from academy.seeding import seed_taxonomy

    _load(seed_taxonomy, seed_dir, "Installed", "The taxonomy is already installed.")


@click.group("curation")
def curation_group() -> None:
    """Curators' scheduled jobs."""


@curation_group.command("digest")
@with_appcontext
def curation_digest_command() -> None:
    """Mail each curator who wants it a summary of the courses waiting for review (run it
    daily from cron); nothing is sent when the queue is empty."""
    from academy.curation.services import send_digest
    from academy.mail.outbox import send_pending

    sent = send_digest()
    db.session.commit()
    send_pending()
    click.echo(f"Queued the digest for {sent} curator{'s' if sent != 1 else ''}.")


def init_app(app: Flask) -> None:
    """Register every command group of the project on ``app``: the one place they are listed."""
    from academy.accounts.cli import users_group
    from academy.credentials.cli import credentials_group
    from academy.enrolment.cli import enrolment_group, send_reminders_command
    from academy.imports.cli import courses_group
    from academy.mail.cli import mail_group
    from academy.search.cli import search_group

    for command in (
        seed_command,
        taxonomy_group,
        curation_group,
        courses_group,
        search_group,
        mail_group,
        users_group,
        credentials_group,
        enrolment_group,
    ):
        app.cli.add_command(command)
    # `flask mail send-reminders` is the name cron and the README have always used
    if "send-reminders" not in mail_group.commands:
        mail_group.add_command(send_reminders_command)
