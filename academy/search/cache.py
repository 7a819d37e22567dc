"""A per-process cache of browse and search results, invalidated by any searchable change.

What a results page costs, besides rendering, is deciding *which* courses match and counting the
facets: ranking (``search/ranker.py``) and array work over the catalogue snapshot
(``catalogue/snapshot.py``, kept under the same stamp). Both depend only on the filters, the live
index and the searchable rows of the database, so a result can be kept until one of those
changes. Each entry is stored under a *stamp* taken before it was computed:

- the newest ``search_outbox`` id in the database: every committed change to a course, cohort,
  session, provider, programme or taxonomy term writes one (``search/outbox.py``), so the stamp
  changes with the commit, before any index has applied it;
- the live index generation and the outbox entries it has applied (its ``state.json``: last id and
  gaps), so the entry also changes when the index catches up, including with a transaction that
  committed late under an older id.

Entries also expire after ``SEARCH_CACHE_SECONDS`` (default 30): the "starting within" counts
depend on the clock. Only ids and counts are kept, never a course: whoever uses an entry re-reads
the page's courses through the visibility rules, so even an entry computed a moment before a
course was hidden can never show it. ``SEARCH_CACHE_SIZE`` (default 512 entries per process; 0
turns the cache off) bounds the memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from academy.search.models import SearchOutbox
from academy.search.store import IndexStore

EXTENSION = "academy.search.result_cache"


class ResultCache:
    """A bounded, thread-safe map from (stamp, key) to a value, least recently used first out."""

    def __init__(
        self, size: int = 512, seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.size = size
        self.seconds = seconds
        self.clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any | None:
        """The value stored under ``key`` if it has not expired, else ``None``."""
        now = self.clock()
        with self._lock:
            found = self._entries.get(key)
            if found is None or now - found[0] > self.seconds:
                if found is not None:
                    del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: Hashable, value: Any) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._entries[key] = (self.clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


def result_cache() -> ResultCache | None:
    """This process's cache for the current app, or ``None`` when ``SEARCH_CACHE_SIZE`` is 0."""
    config = current_app.config
    size = int(config.get("SEARCH_CACHE_SIZE", 512))
    if size <= 0:
        return None
    cache = current_app.extensions.get(EXTENSION)
    if cache is None:
        cache = current_app.extensions.setdefault(
            EXTENSION, ResultCache(size, float(config.get("SEARCH_CACHE_SECONDS", 30.0)))
        )
    return cache


_NEWEST_OUTBOX_ID = select(func.max(SearchOutbox.id))


def stamp(store: IndexStore, session) -> tuple:
    """What a cached result depends on besides its filters: the newest outbox id in the
    database, and the live index's generation with the entries it has applied (one query and
    two small files, read again only when replaced)."""
    # on the session's connection (its transaction) without the ORM's statement handling
    newest = session.connection().scalar(_NEWEST_OUTBOX_ID) or 0
    generation = store.current_generation()
    if generation is None:
        return (newest, None)
    return (newest, generation.name, *store.applied(generation))
