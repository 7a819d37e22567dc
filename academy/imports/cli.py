"""``flask courses import FILE.csv --provider SLUG``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

courses_group = AppGroup("courses", help="Manage courses.")


@courses_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--provider", "provider_slug", required=True)
def import_command(path: str, provider_slug: str) -> None:
    """Import courses from a CSV file in the template."""
    raise click.ClickException("not built yet")
