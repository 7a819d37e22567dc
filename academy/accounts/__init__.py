"""Accounts: registration, log-in with server-side sessions, password reset, profile, roles.

Roles: every account is a learner; provider staff are members of a provider
(``ProviderMembership``); curators have ``is_curator``.
"""

from __future__ import annotations

from flask import Flask, g

from academy.extensions import login_manager


def init_app(app: Flask) -> None:
    """Wire Flask-Login to server-side sessions and register the accounts pages."""
    from academy.accounts.security import load_user
    from academy.accounts.views import bp

    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"

    @app.before_request
    def forget_cached_user() -> None:
        # ``g`` outlives a request when an app context was already pushed (tests, commands that
        # serve requests); the user must be loaded from this request's cookie, never reused.
        g.pop("_login_user", None)
        g.pop("mail_queued", None)

    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Log in to see that page."
    login_manager.login_message_category = "info"
    app.register_blueprint(bp)
