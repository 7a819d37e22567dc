"""Absolute URLs, on the ground floor: the one helper for links that leave the site.

Inside a request they are built on the request's host; in a command (mail sent by cron,
credentials signed by a script) they use ``BASE_URL``. Deployments behind a proxy should set
``BASE_URL`` and serve on that host, since the issuer's ``id`` is baked into every signed
credential.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

from flask import current_app, has_request_context, url_for

_MARK = "__value__"


def path_builder(endpoint: str, name: str) -> Callable[[object], str]:
    """A function giving ``url_for(endpoint, **{name: value})`` for any ``value``, for an
    endpoint whose URL ends with that one variable (``/courses/<slug>``): the path before it is
    built once, the value quoted as the default converter quotes it. For pages linking many
    items (a list of courses), where building each link with ``url_for`` would cost the most.

    :raise ValueError: when the endpoint's URL does not end with ``name``'s value.
    """
    url = url_for(endpoint, **{name: _MARK})
    if "?" in url or not url.endswith(_MARK) or url.count(_MARK) != 1:
        raise ValueError(f"{endpoint}'s URL does not end with <{name}>")
    prefix = url[: -len(_MARK)]
    to_url = current_app.url_map.converters["default"](current_app.url_map).to_url
    return lambda value: prefix + to_url(value)


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
