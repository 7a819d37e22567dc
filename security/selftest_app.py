"""DELIBERATELY VULNERABLE routes, so the scan can prove that it sees something.

Mounted only by ``security/site.py`` when ``ACADEMY_SCAN_SELFTEST=1`` (``make scan-selftest``);
this module lives outside the ``academy`` package, so no deployment of the app can contain it,
and ``tests/test_scan.py`` checks that ``create_app`` never registers it. Never import it
anywhere else.

- ``GET /_selftest/vulnerable?name=``: SQL built by string concatenation (SQL injection) and the
  input written back unescaped (reflected cross-site scripting).
- ``POST /_selftest/vulnerable`` with ``term`` and a CSRF token: the same injection behind a
  Flask-WTF form, so the self-test also shows that POST forms are attacked with fresh tokens.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask_wtf import FlaskForm
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from wtforms import StringField

from academy.extensions import db

bp = Blueprint("scan_selftest", __name__, url_prefix="/_selftest")


class TermForm(FlaskForm):
    term = StringField("Term")


def _lookup(value: str) -> str:
    try:
        rows = db.session.execute(
            text("SELECT name FROM providers WHERE slug = '" + value + "'")  # the vulnerability
        ).all()
    except DBAPIError as error:  # leak the driver's message, as careless code does
        db.session.rollback()
        driver_error = error.orig
        kind = f"{type(driver_error).__module__}.{type(driver_error).__name__}"
        return f"<p>Database error: {kind}: {driver_error}</p>"
    return "".join(f"<li>{row.name}</li>" for row in rows) or "<p>No provider.</p>"


@bp.route("/vulnerable", methods=["GET", "POST"])
def vulnerable():
    form = TermForm()
    found = ""
    if request.args.get("name") is not None:
        name = request.args["name"]
        found = f"<h2>Results for {name}</h2><ul>{_lookup(name)}</ul>"  # reflected unescaped
    elif form.validate_on_submit():
        found = f"<h2>Results for {form.term.data}</h2><ul>{_lookup(form.term.data)}</ul>"
    return (
        "<!doctype html><html lang='en'><title>Self-test</title><body>"
        "<h1>Deliberately vulnerable (scan self-test)</h1>"
        "<form method='get' action='/_selftest/vulnerable'>"
        "<label>Name <input name='name' value='anna-freud'></label><button>Look up</button>"
        "</form>"
        "<form method='post' action='/_selftest/vulnerable'>"
        f"<input type='hidden' name='csrf_token' value='{form.csrf_token.current_token}'>"
        "<label>Term <input name='term' value='anna-freud'></label><button>Look up</button>"
        f"</form>{found}</body></html>"
    )
