"""Absolute URLs for what the Academy publishes in credentials (built by :mod:`academy.urls`).

The issuer's ``id`` is baked into every signed credential, so deployments behind a proxy set
``BASE_URL`` and serve on that host.
"""

from __future__ import annotations

from academy.urls import absolute

__all__ = ["absolute", "issuer_id"]


def issuer_id() -> str:
    """The issuer Profile's URL: the ``issuer.id`` of every credential the Academy signs."""
    return absolute("credentials.issuer")
