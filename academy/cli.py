"""Command-line entry points: ``flask seed``, ``flask taxonomy load``, ``flask curation
digest`` and ``flask curation approve`` (and ``flask courses import``, ``flask search``,
``flask mail`` from their packages)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from academy.extensions import db


def _seed_dir_option(what: str):
    """The ``--dir`` option of the seed commands: a folder, the project's seed/ by default."""
    return click.option(
        "--dir",
        "seed_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help=f"{what} (default: the project's seed/).",
    )


@click.command("seed")
@with_appcontext
@_seed_dir_option("Folder of seed files")
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
@_seed_dir_option("Folder holding taxonomy.yaml")
def taxonomy_load_command(seed_dir: Path | None) -> None:
    """Install the taxonomy (no demonstration data); adds only what is missing, so every
    install and deploy runs it after ``flask db upgrade``."""
    from academy.seeding import seed_taxonomy

    _load(seed_taxonomy, seed_dir, "Installed", "The taxonomy is already installed.")


@click.group("curation")
def curation_group() -> None:
    """Curators' jobs: the digest of waiting courses, approving a whole import."""


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


@curation_group.command("approve")
@with_appcontext
@click.option("--provider", "provider_slug", required=True, help="Slug of the organisation.")
@click.option("--curator", "curator_email", required=True, help="E-mail of a curator's account.")
@click.option(
    "--verify-provider",
    is_flag=True,
    help="Verify the organisation first if it is not verified yet (approval needs it).",
)
def curation_approve_command(provider_slug: str, curator_email: str, verify_provider: bool) -> None:
    """Approve every course of one organisation that waits for review, as one bulk decision of
    the curator named (the same rules, audit entries and mail as the review queue's bulk
    approval): for an operator publishing a whole imported catalogue."""
    from academy.accounts.services import find_user
    from academy.curation import services as curation
    from academy.mail.outbox import send_pending
    from academy.providers.models import Provider

    curator = find_user(curator_email)
    provider = db.session.scalar(db.select(Provider).where(Provider.slug == provider_slug))
    try:
        if curator is None:
            raise curation.CurationError(
                f"No account has the e-mail {curator_email}: create it with"
                " flask users create-curator EMAIL."
            )
        if provider is None:
            raise curation.CurationError(f'No organisation has the slug "{provider_slug}".')
        if verify_provider and not provider.is_verified:
            curation.verify_provider(curator, provider)
        result = curation.bulk_decide(
            curator, "approve", None, curation.QueueFilter(provider_id=provider.id)
        )
    except curation.CurationError as error:
        db.session.rollback()
        hint = "" if verify_provider else " (or add --verify-provider)"
        unverified = provider is not None and not provider.is_verified
        raise click.ClickException(error.message + (hint if unverified else "")) from error
    db.session.commit()
    send_pending()
    skipped = f" ({result.skipped} skipped)" if result.skipped else ""
    click.echo(
        f'Approved {result.done} course{"s" if result.done != 1 else ""} of "{provider.name}"'
        f"{skipped}."
    )


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
