"""Share links (blueprint ``portfolio_sharing``), one module per screen:

- ``links``: the learner's list of links and the form that makes one, and revoking one
  (``/portfolio/share``)
- ``public``: the pages a link opens (``/shared/<token>``) and the evidence they serve

and ``services`` (making, listing, revoking and opening links) and ``forms``.

The public face other packages use is re-exported here.
"""

from academy.portfolio.sharing.services import (
    DEFAULT_DAYS,
    MAX_DAYS,
    LinkRow,
    LinkUnavailable,
    SharedPortfolio,
    ShareError,
    create_link,
    end_of_day,
    expiry_bounds,
    get_own_link,
    last_moment,
    links_for,
    open_link,
    revoke,
    shareable_entries,
    shared_evidence,
    status_of,
    today,
)

__all__ = [
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "LinkRow",
    "LinkUnavailable",
    "ShareError",
    "SharedPortfolio",
    "create_link",
    "end_of_day",
    "expiry_bounds",
    "get_own_link",
    "last_moment",
    "links_for",
    "open_link",
    "revoke",
    "shareable_entries",
    "shared_evidence",
    "status_of",
    "today",
]


def register(app) -> None:
    """Add the share-link screens to ``app``."""
    from academy.portfolio.sharing import links, public  # noqa: F401
    from academy.portfolio.sharing.common import bp

    app.register_blueprint(bp)
