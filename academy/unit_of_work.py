"""One unit of work per request: the only place a web request commits or rolls back.

The rule, as in Indico's ``RH.process``: a view parses input, calls services and renders or
redirects. It never commits and never rolls back. Services change rows, ``flush`` and, when a rule
refuses the change, raise a :class:`DomainError` whose message is fit to show the person.

* When a view returns a response below 400, :func:`init_app`'s ``after_request`` hook commits
  the request's session once. A failed commit is an error (500), never a false success message.
* When a view returns 400 or more, or raises, the session is rolled back: nothing is written.
* A view that wants to show a refusal next to its form, with what was typed kept, wraps the
  service call in :func:`attempt`: the ``DomainError`` is caught, the session rolled back and the
  message attached to the form (and to the returned :class:`Outcome`).
* A refusal that must leave a trace (a failed log-in is counted; a new confirmation link is
  mailed) calls :func:`keep_work`: that request's work is committed although it answers 4xx.
* A ``DomainError`` that no view caught is rolled back here and shown as a 422 page with the
  message and a link back, so a refusal never becomes a 500.

The CLI and the search indexer keep their own transactions: they run outside requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask, Response, flash, g, render_template, request
from flask_wtf import FlaskForm

from academy.extensions import db


class DomainError(Exception):
    """A refusal by a service, with a message fit to show the person; the caller rolls back.

    Every domain's error class subclasses this one, so the request layer needs to know only it.
    """

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Outcome:
    """What :func:`attempt` saw: ``error`` is the refusal's message, or ``None`` on success."""

    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


@contextmanager
def attempt(form: FlaskForm | None = None, *, flash_refusal: bool = False) -> Iterator[Outcome]:
    """Run the block; on :class:`DomainError` roll back, keep the message and carry on.

    The message is appended to ``form.form_errors`` (so the error summary shows it and every
    field keeps what was typed) and stored on the yielded :class:`Outcome`. Any other exception
    propagates (and the request rolls back).
    """
    outcome = Outcome()
    try:
        yield outcome
    except DomainError as error:
        db.session.rollback()
        outcome.error = error.message
        if form is not None:
            form.form_errors.append(error.message)
        if flash_refusal:  # for a button that redirects back: the message rides on the redirect
            flash(error.message, "error")


def keep_work() -> None:
    """Commit this request's work even though its response will be an error (4xx).

    For a refusal that must leave a trace, such as a counted failed log-in. Call it after the
    refusal was caught without :func:`attempt` (which rolls back).
    """
    g.unit_of_work_keep = True


def _finish(response: Response) -> Response:
    """Commit a successful request's work once (or a kept refusal's); roll back anything else."""
    if response.status_code < 400 or g.pop("unit_of_work_keep", False):
        db.session.commit()
    else:
        db.session.rollback()
    return response


def init_app(app: Flask) -> None:
    """Install the commit-once hook and the fallback page for an uncaught :class:`DomainError`."""
    app.before_request(lambda: g.pop("unit_of_work_keep", None))
    app.after_request(_finish)

    @app.errorhandler(DomainError)
    def refused(error: DomainError):
        db.session.rollback()
        if request.path.startswith("/api/"):
            return {"error": error.message, "status": error.status}, error.status
        return render_template("errors/refused.html", message=error.message), error.status
