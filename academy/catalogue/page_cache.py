"""Public pages as a visitor sees them, rendered once per state and kept per process.

A visitor (not signed in, no message waiting to be flashed) sees a course page or a page of
results that is a pure function of a few inputs; rendering it (the template, every term and
link escaped and built) costs more than finding what to show, so the HTML is kept under a key
holding every input, and any change to one of them is a different key:

- **a course page** (``course_page.public_course_page``'s ``state``): the catalogue stamp, the
  slug, the course row's version, its cohorts' rows as read on this request (places included),
  and how many of the cohorts' instants have passed (see there);
- **a page of results** (browse and search): the catalogue stamp (``search/cache.py``) and the
  URL parameters exactly as given (order included: the first of a repeated parameter wins). On
  each hit one query checks that the courses shown are all still public, so a course hidden by a
  transaction the stamp has not yet seen (one that committed late under an older outbox id,
  until the index applies it) never shows, as ``browse`` guarantees by reading the page's
  courses again. Its clock-dependent parts ("starting within" counts, next starts) are kept at
  most ``SEARCH_CACHE_SECONDS`` (as the results cache keeps them) and never past the soonest
  next start the page shows.

Signed-in people get pages rendered for them (their name, their places, a CSRF token), and so
does a session holding uncommitted searchable changes (``snapshot.shareable``).
``PAGE_CACHE_SIZE`` (default 512 pages per process; 0 turns it off) bounds the memory: pages
are kept as UTF-8 (a page of results is about 25 kB, a course page 4 to 10 kB, so at most
about 13 MB per process).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, session
from flask_login import current_user
from sqlalchemy import func, select

from academy.catalogue.models import Course
from academy.catalogue.snapshot import shareable
from academy.catalogue.visibility import is_public
from academy.db_types import utcnow
from academy.extensions import db
from academy.search import get_store
from academy.search.cache import ResultCache, stamp

EXTENSION = "academy.catalogue.page_html"


def html_cache() -> ResultCache | None:
    """This process's page cache for the current app, or ``None`` when it is off."""
    size = int(current_app.config.get("PAGE_CACHE_SIZE", 512))
    if size <= 0:
        return None
    cache = current_app.extensions.get(EXTENSION)
    if cache is None:
        cache = current_app.extensions.setdefault(EXTENSION, ResultCache(size, float("inf")))
    return cache


def for_visitor() -> bool:
    """Whether this request may use the cache: a visitor's page, nothing to flash, and a
    session that holds no uncommitted searchable change."""
    return (
        not current_user.is_authenticated and not session.get("_flashes") and shareable(db.session)
    )


def course_page(state: tuple, render: Callable[[], str]) -> str | bytes:
    """The course page whose inputs are ``state`` (UTF-8 from the cache), or ``render()``."""
    cache = html_cache() if state and for_visitor() else None
    if cache is None:
        return render()
    key = ("course", state)
    html = cache.get(key)
    if html is None:
        html = render().encode()
        cache.put(key, html)
    return html


@dataclass(frozen=True)
class _Results:
    html: bytes
    shown: tuple[int, ...]  # the ids of the courses shown
    expires_at: datetime


def results_page(
    args: Mapping[str, str] | Iterable,
    render: Callable[[tuple | None], tuple[str, list[int], Iterable[datetime]]],
) -> str | bytes:
    """A page of results for URL parameters ``args`` (a ``MultiDict``): from the cache while
    its courses are all still public, else ``render(stamp)``, which returns the HTML, the ids of
    the courses shown and their next starts, given the stamp just read (``None``: read it).
    ``render`` may raise (a 404): nothing is kept."""
    cache = html_cache() if for_visitor() else None
    if cache is None:
        return render(None)[0]
    items = tuple(args.items(multi=True)) if hasattr(args, "items") else tuple(args)
    current = stamp(get_store(), db.session)
    key: Hashable = ("results", current, items)
    now = utcnow()
    entry: _Results | None = cache.get(key)
    if entry is not None and now < entry.expires_at and _all_public(entry.shown):
        return entry.html
    html, ids, starts = render(current)
    seconds = float(current_app.config.get("SEARCH_CACHE_SECONDS", 30.0))
    expires_at = min([now + timedelta(seconds=seconds), *starts])
    cache.put(key, _Results(html.encode(), tuple(sorted(set(ids))), expires_at))
    return html


def _all_public(ids: tuple[int, ...]) -> bool:
    if not ids:
        return True
    from academy.catalogue.browse import id_in  # browse imports nothing from here

    found = db.session.scalar(
        select(func.count()).select_from(Course).where(id_in(list(ids), Course.id, "shown_ids"),
                                                       is_public())
    )  # fmt: skip
    return found == len(ids)
