"""Absolute URLs for what the Academy publishes in credentials.

Inside a request they are built on the request's host; in a command they use ``BASE_URL``.
Deployments behind a proxy should set ``BASE_URL`` and serve on that host, since the issuer's
``id`` is baked into every signed credential.
"""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def absolute(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)`` as an absolute URL."""
    if has_request_context():
        return url_for(endpoint, _external=True, **values)
    with current_app.test_request_context(base_url=current_app.config.get("BASE_URL")):
        return url_for(endpoint, _external=True, **values)


def issuer_id() -> str:
    return absolute("credentials.issuer")
