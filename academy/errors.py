"""Error pages in the site's style; JSON is left to the API blueprint when it exists."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from academy.extensions import db


def init_app(app: Flask) -> None:
    """Render every HTTP error with ``templates/errors/``; log and hide unexpected exceptions."""

    def wants_json() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            return jsonify(error=error.description, status=error.code), error.code
        template = "errors/404.html" if error.code == 404 else "errors/generic.html"
        return render_template(template, error=error), error.code

    @app.errorhandler(InternalServerError)
    def internal_error(error: InternalServerError):
        db.session.rollback()
        app.logger.exception("Unhandled error", exc_info=error.original_exception)
        if wants_json():
            return jsonify(error="Something went wrong; it has been logged.", status=500), 500
        return render_template("errors/500.html"), 500
