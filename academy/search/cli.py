"""``flask search sync [--follow]``, ``flask search rebuild``, ``flask search status``."""

from __future__ import annotations

import signal
import threading

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from academy.extensions import db
from academy.search import get_store, indexer

search_group = AppGroup("search", help="Keep the search index in step with the database.")


def _describe(report: indexer.SyncReport) -> str:
    if report.busy:
        return "Another process is updating this index; it will apply the changes."
    verb = "Rebuilt the index" if report.rebuilt else "Applied"
    if report.rebuilt:
        return f"{verb}: {report.indexed} documents; outbox applied up to entry {report.last_id}."
    return (
        f"{verb} {report.applied} outbox entries ({report.indexed} documents updated, "
        f"{report.removed} removed); up to entry {report.last_id}."
    )


@search_group.command("sync")
@click.option("--follow", is_flag=True, help="Keep running, applying changes as they arrive.")
@click.option("--interval", default=0.5, show_default=True, help="Seconds between checks.")
def sync_command(follow: bool, interval: float) -> None:
    """Apply outbox entries this server's index has not seen (builds the index if missing)."""
    store = get_store()
    if not follow:
        click.echo(_describe(indexer.sync(store, db.engine)))
        click.echo(f"Pruned {indexer.prune(db.engine)} old outbox entries.")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"Following the outbox for {store.root} (Ctrl-C to stop).")
    checks = 0
    while not stop.is_set():
        try:
            report = indexer.sync(store, db.engine)
            checks += 1
            if checks % 600 == 0:
                indexer.prune(db.engine)
        except SQLAlchemyError as error:
            # A database restart, failover or restore must not end the follower: say so and
            # try again; the outbox keeps every change until it is applied.
            click.echo(f"The database did not answer ({type(error).__name__}); retrying.", err=True)
            stop.wait(max(interval, 2.0))
            continue
        if report.applied or report.rebuilt:
            click.echo(_describe(report))
        stop.wait(interval)


@search_group.command("rebuild")
@click.option("--procs", default=1, show_default=True, help="Indexing processes.")
def rebuild_command(procs: int) -> None:
    """Build a new index from the database beside the live one and swap it in."""
    click.echo(_describe(indexer.rebuild(get_store(), db.engine, procs=procs)))


@search_group.command("status")
def status_command() -> None:
    """Database and index counts, lag, and every index's position in the outbox."""
    store = get_store()
    found = indexer.status(store, db.engine)
    click.echo(f"Index directory:          {store.root}")
    click.echo(f"Published courses (db):   {found.database_courses}")
    if found.indexed_documents is None:
        click.echo("Indexed documents:        no index yet (run `flask search sync`)")
    else:
        click.echo(f"Indexed documents:        {found.indexed_documents}")
        click.echo(f"Last outbox entry applied: {found.last_applied}")
        click.echo(f"Newest outbox entry:      {found.newest_entry}")
        click.echo(f"Entries waiting (lag):    {found.pending}")
    for index_id, last_id, updated in found.positions:
        mine = " (this index)" if index_id == store.index_id else ""
        click.echo(f"Index {index_id}{mine}: applied up to {last_id}, at {updated}")
