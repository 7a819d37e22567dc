"""``flask credentials rotate-key``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from academy.credentials import keys


@click.group("credentials", cls=AppGroup)
def credentials_group() -> None:
    """Manage the keys that sign Open Badges and CLR credentials."""


@credentials_group.command("rotate-key")
def rotate_key_command() -> None:
    """Make a new signing key: new credentials use it; old ones still verify."""
    key = keys.generate_key()
    click.echo(f"New signing key {key.kid} (number {key.number}); {len(keys.load_keys())} in all.")
