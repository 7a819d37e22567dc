"""Mail: an outbox written in the same transaction as the change, sent after the commit.

Settings (environment ``ACADEMY_MAIL_*``): ``MAIL_SERVER``, ``MAIL_PORT``, ``MAIL_USERNAME``,
``MAIL_PASSWORD``, ``MAIL_USE_TLS`` (STARTTLS), ``MAIL_USE_SSL``, ``MAIL_DEFAULT_SENDER``. With no
``MAIL_SERVER`` every message is written as an ``.eml`` file under ``MAIL_FILE_DIR``
(``instance/mail`` by default) and the log says where.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Send queued mail once each response has gone out."""
    # Tests send explicitly (or switch this on) so that no test writes into instance/.
    if app.config["MAIL_SEND_AFTER_REQUEST"] is None:
        app.config["MAIL_SEND_AFTER_REQUEST"] = not app.testing

    @app.after_request
    def send_after_response(response):
        if g.get("mail_queued") and current_app.config["MAIL_SEND_AFTER_REQUEST"]:
            real_app = current_app._get_current_object()
            response.call_on_close(lambda: _send_now(real_app))
        return response


def note_queued() -> None:
    """Remember that this request queued mail, so it is sent once the response is closed."""
    from flask import has_request_context

    if has_request_context():
        g.mail_queued = True


def _send_now(app: Flask) -> None:
    from academy.extensions import db
    from academy.mail.outbox import send_pending

    with app.app_context():
        try:
            send_pending()
        except Exception:  # never let a mail problem reach the learner; the command retries
            log.exception("Sending queued mail after the request failed")
            db.session.rollback()
