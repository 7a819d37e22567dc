"""``flask users create-curator EMAIL``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from academy.extensions import db


@click.group("users")
def users_group() -> None:
    """Manage accounts."""


@users_group.command("create-curator")
@click.argument("email")
@click.option("--name", default=None, help="Name for a new account (asked if not given).")
@with_appcontext
def create_curator_command(email: str, name: str | None) -> None:
    """Make EMAIL a curator, creating the account (asking for a password) if it has none."""
    from academy.accounts import services

    user = services.find_user(email)
    if user is not None:
        user.is_curator = True
        db.session.commit()
        click.echo(f"{user.email} is now a curator.")
        return
    name = name or click.prompt("Full name")
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(name, email, password, confirmed=True, curator=True)
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Created curator {user.email}.")
