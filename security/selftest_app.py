"""DELIBERATELY VULNERABLE routes, so the scan can prove that it sees something.

Mounted only by ``security/site.py`` when ``ACADEMY_SCAN_SELFTEST=1`` (``make scan-selftest``);
this module lives outside the ``academy`` package, so no deployment of the app can contain it,
and ``tests/test_scan.py`` checks that ``create_app`` never registers it. Never import it
anywhere else.

``/_selftest/vulnerable`` offers two forms:

- GET ``name`` and ``order``: ``name`` is pasted into SQL (injection; the driver's error message
  is shown, as careless code does) and written back unescaped (reflected cross-site scripting);
  ``order`` is pasted into ``ORDER BY`` with no error handling, so odd input is a 500.
- POST ``term`` behind a Flask-WTF CSRF token: the same injection as ``name``, so the self-test
  also shows that forms are attacked with a token the app accepts.
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


def _lookup(value: str, order: str = "name") -> str:
    sql = "SELECT name FROM providers WHERE slug = '" + value + "' ORDER BY " + order
    try:
        rows = db.session.execute(text(sql)).all()  # the vulnerability
    except DBAPIError as error:
        if order != "name":
            raise  # an unhandled error: the app answers 500
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
        rows = _lookup(name, request.args.get("order", "name"))
        found = f"<h2>Results for {name}</h2><ul>{rows}</ul>"  # reflected unescaped
    elif form.validate_on_submit():
        found = f"<h2>Results for {form.term.data}</h2><ul>{_lookup(form.term.data)}</ul>"
    return (
        "<!doctype html><html lang='en'><title>Self-test</title><body>"
        "<h1>Deliberately vulnerable (scan self-test)</h1>"
        "<form method='get' action='/_selftest/vulnerable'>"
        "<label>Name <input name='name' value='anna-freud'></label>"
        "<label>Order <input name='order' value='name'></label><button>Look up</button>"
        "</form>"
        "<form method='post' action='/_selftest/vulnerable'>"
        f"<input type='hidden' name='csrf_token' value='{form.csrf_token.current_token}'>"
        "<label>Term <input name='term' value='anna-freud'></label><button>Look up</button>"
        f"</form>{found}</body></html>"
    )
