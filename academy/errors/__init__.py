"""Error pages in the site's style, each saying what happened and what to do next.

- 400, 403, 404, 405, 410, 413 and 429 have their own words (``templates/errors/<code>.html``,
  or ``generic.html``), a title that starts "Error: " and a link onward; 500 is logged and hidden.
- A form sent after the session ended or with a stale token (``CSRFError``) is not a bare 400:
  what was typed is kept and the page links back to it, through the log-in page when the
  session had ended (``kept_forms``).
- A GET on an address that only takes a form (after a reload, or from history) goes back to
  the page the form lives on, with a line saying why; when there is no such page (or for other
  methods) the friendly 405 page says what to do.

A page showing a refused form has a title that starts "Error: " (``page_has_form_errors``).
Text fields show their length limit and are never cut by the browser (``limits``).

JSON is left to the API (``/api/``): it gets ``{"error", "status"}``.
"""

from __future__ import annotations

from flask import Flask, flash, jsonify, redirect, render_template, request
from flask_wtf.csrf import CSRFError
from jinja2 import pass_context
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from wtforms import Form

from academy.errors import kept_forms, limits
from academy.extensions import db

#: codes with a page of their own words; any other code uses ``generic.html``
OWN_PAGES = {400, 403, 404, 405, 410, 413, 429}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_page(error: HTTPException):
    """The page for ``error`` in the site's style (JSON under ``/api/``)."""
    code = error.code or 500
    if wants_json():
        return jsonify(error=error.description, status=code), code
    template = f"errors/{code}.html" if code in OWN_PAGES else "errors/generic.html"
    return render_template(template, error=error), code


def method_not_allowed(error: MethodNotAllowed):
    """A GET on a form-only address goes to the page the form lives on; others see 405."""
    if request.method in ("GET", "HEAD") and not wants_json():
        page = kept_forms.page_for_get(request.path)
        if page is not None:
            flash("That address only takes a form, so here is the page the form is on.", "info")
            return redirect(page, 303)
    return error_page(error)


def stale_form(error: CSRFError):
    """A form sent after the session ended or with a stale token: keep it, then carry on."""
    if wants_json() or request.method in ("GET", "HEAD"):
        return error_page(error)
    return kept_forms.keep_and_explain(error)


@pass_context
def page_has_form_errors(context) -> bool:
    """Whether the page being rendered shows a refused form (any form in its context with
    errors, or a ``problem`` message): ``base.html`` then starts the title with "Error: "."""
    if context.get("problem"):
        return True
    for value in context.get_all().values():
        if isinstance(value, Form) and (value.errors or getattr(value, "form_errors", None)):
            return True
    return False


def init_app(app: Flask) -> None:
    """Render every HTTP error with ``templates/errors/``; log and hide unexpected exceptions."""
    kept_forms.init_app(app)
    limits.init_app(app)
    app.add_template_global(page_has_form_errors)
    app.register_error_handler(CSRFError, stale_form)
    app.register_error_handler(MethodNotAllowed, method_not_allowed)
    app.register_error_handler(HTTPException, error_page)

    @app.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError):
        db.session.rollback()
        app.logger.exception("Unhandled error", exc_info=error.original_exception)
        if wants_json():
            return jsonify(error="Something went wrong; it has been logged.", status=500), 500
        return render_template("errors/500.html"), 500
