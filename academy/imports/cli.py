"""``flask courses import FILE.csv --provider SLUG``: the command-line face of the course import."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from academy.extensions import db
from academy.imports.course_csv import (
    ImportReport,
    InvalidProvider,
    ProviderNotFound,
    apply_course_import,
    check_course_csv,
    resolve_provider,
)

courses_group = AppGroup("courses", help="Manage courses.")


@courses_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", "provider_slug", required=True, help="Slug of the provider.")
@click.option(
    "--create-provider",
    "provider_name",
    metavar="NAME",
    help="Create the provider, with this name, when no provider has the slug yet.",
)
@click.option(
    "--skip-bad-rows",
    is_flag=True,
    help="Import the good rows and report the bad ones (default: any bad row imports nothing).",
)
@click.option(
    "--windows-1252",
    "accept_windows_1252",
    is_flag=True,
    help="The file is not UTF-8 and the cells read as Windows-1252 look right: import it.",
)
def import_command(
    path: Path,
    provider_slug: str,
    provider_name: str | None,
    skip_bad_rows: bool,
    accept_windows_1252: bool,
) -> None:
    """Import courses from PATH, a CSV file in the template (see docs/import-guide.md).

    Importing the same file again updates the courses in place, matched on their reference.
    The rules are the web screen's: nothing is published by an import (new courses are drafts
    or wait for a curator, as the status column asks), a published course's changes wait for
    review, an archived course is never changed.
    """
    try:
        provider, created = resolve_provider(provider_slug, provider_name)
    except (ProviderNotFound, InvalidProvider) as error:
        raise click.ClickException(str(error)) from error
    plan = check_course_csv(path.read_bytes(), provider)
    if plan.report.encoding_guessed and not accept_windows_1252:
        db.session.rollback()
        _echo_messages("Notices", plan.report.notices)
        _echo_messages("Cells read as Windows-1252", plan.report.guessed_cells[:200])
        raise click.ClickException(
            f"Nothing was imported: {path.name} is not UTF-8. If the cells above look right,"
            " run the command again with --windows-1252; otherwise save the file as CSV UTF-8."
        )
    report = apply_course_import(plan, skip_bad_rows=skip_bad_rows)
    if not report.applied:
        db.session.rollback()
        _echo_messages("Problems", report.problems)
        _echo_messages("Notices", report.notices)
        hint = "" if skip_bad_rows or not report.rows else " (or use --skip-bad-rows)"
        problems = _plural(len(report.problems), "problem")
        raise click.ClickException(
            f"Nothing was imported: {path.name} has {problems}. Fix them and import it again{hint}."
        )
    db.session.commit()
    _echo_report(report, provider, path.name, created)


def _echo_report(report: ImportReport, provider, file_name: str, created: bool) -> None:
    """Say what the import did: each course by outcome, the notices, the bad rows, and how to
    publish what waits for review."""
    if created:
        click.echo(f'Created the provider "{provider.name}" ({provider.slug}).')
    click.echo(f'Imported {file_name} for "{provider.name}" ({provider.slug}): {_counts(report)}.')
    for outcome, title in (
        ("new", "New"),
        ("changed", "Changed"),
        ("skipped", "Skipped"),
        ("unchanged", "Unchanged"),
    ):
        _echo_messages(title, report.named(outcome))
    _echo_messages("Notices", report.notices)
    if report.new or report.changed:
        click.echo(
            "What the rows send for review waits for a curator, in the review queue or from"
            f" the command line: flask curation approve --provider {provider.slug}"
            " --curator EMAIL"
        )
    if report.problems:
        rows = ", ".join(str(row) for row in report.skipped_rows)
        click.echo(f"Skipped {_plural(len(report.skipped_rows), 'bad row')}: {rows}.")
        _echo_messages("Problems", report.problems)


def _counts(report: ImportReport) -> str:
    counts = f"{report.new} new, {report.changed} changed, {report.unchanged} unchanged"
    if report.skipped:
        counts += f", {report.skipped} skipped"
    if report.duplicates:
        counts += f", {_plural(report.duplicates, 'duplicate row')} imported once"
    return counts


def _echo_messages(title: str, messages: list) -> None:
    if messages:
        click.echo(f"{title}:")
        for message in messages:
            click.echo(f"  {message}")


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
