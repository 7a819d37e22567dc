"""The Relational Learning Academy catalogue.

``create_app`` builds the Flask application. It reads configuration and wires extensions and
blueprints; it never opens a database connection, a search index or runs migrations.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from academy import config as settings
from academy import params
from academy.extensions import csrf, db, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Return a configured application; ``config`` overrides every other source (used by tests).

    Reads configuration and wires extensions and blueprints; no database connection, no index,
    no migration (tests/test_factory.py holds it to that).
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    _configure(app, config)

    import academy.models  # noqa: F401  (registers every table on db.metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    params.init_app(app)  # before any blueprint: ids and path values are parsed in one place
    _register_parts(app)
    return app


def _configure(app: Flask, config: Mapping[str, Any] | None) -> None:
    """Defaults, then ``instance/config.py``, then the environment, then ``config``."""
    app.config.update(settings.defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    environment = settings.from_environment(os.environ)
    app.config.update(environment)
    if config:
        app.config.update(config)
    settings.apply_profile(app.config, {**environment, **(config or {})})
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.load_or_create_secret_key(app.instance_path)
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.normalise_database_url(
        app.config["DATABASE_URL"]
    )
    app.config["COURSES_PER_PAGE"] = int(app.config["COURSES_PER_PAGE"])


def _register_parts(app: Flask) -> None:
    """Every blueprint, request hook, template helper and command, in the order they wrap."""
    from academy import (
        accounts,
        cli,
        enrolment,
        erasure,
        errors,
        formatting,
        mail,
        ops,
        portfolio,
        search,
        unit_of_work,
    )
    from academy.api.views import bp as api_bp
    from academy.catalogue.home import bp as main_bp
    from academy.catalogue.views import bp as catalogue_bp
    from academy.credentials.views import bp as credentials_bp
    from academy.curation.views import bp as curation_bp
    from academy.mail.views import bp as mail_preferences_bp
    from academy.portfolio import completions as portfolio_completions
    from academy.providers.manage import bp as manage_bp
    from academy.providers.views import bp as providers_bp

    ops.init_app(app)  # first: request ids, rate limits and headers wrap every other handler
    for blueprint in (main_bp, catalogue_bp, providers_bp, api_bp, manage_bp, curation_bp):
        app.register_blueprint(blueprint)
    portfolio.init_app(app)
    app.register_blueprint(credentials_bp)
    erasure.init_app(app)
    app.register_blueprint(mail_preferences_bp)
    for part in (search, accounts, enrolment, mail, errors, unit_of_work, formatting):
        part.init_app(app)
    portfolio_completions.init_app(app)
    cli.init_app(app)
