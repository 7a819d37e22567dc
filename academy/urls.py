"""Absolute URLs, on the ground floor: the one helper for links that leave the site.

Inside a request they are built on the request's host; in a command (mail sent by cron,
credentials signed by a script) they use ``BASE_URL``. Deployments behind a proxy should set
``BASE_URL`` and serve on that host, since the issuer's ``id`` is baked into every signed
credential.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from flask import current_app, has_request_context, url_for


def absolute(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)`` as an absolute URL, in a request or outside one."""
    with request_or_base_url():
        return url_for(endpoint, _external=True, **values)


@contextmanager
def request_or_base_url() -> Iterator[None]:
    """Within the block ``url_for(..., _external=True)`` works: on the current request's host,
    or, outside a request, on ``BASE_URL``."""
    if has_request_context():
        with nullcontext():
            yield
        return
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"]):
        yield
