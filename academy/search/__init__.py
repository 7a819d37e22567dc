"""Search, with Whoosh behind a small API and the database as the source of truth.

- ``match_text(store, text)``: course ids ranked for some text, with a spelling suggestion.
- ``highlight(text, terms)``: escaped text with matched words marked.
- ``/search-help`` (``views.bp``, registered by ``init_app``): the query language for learners.
- ``indexer.sync / rebuild / prune / status``: keep an index in step with the outbox.

``init_app`` installs the outbox listener and, after each commit that changed something
searchable, applies the outbox: inline (``SEARCH_SYNC=inline``, used by tests), in a background
thread of this process (``background``, the default: searchable within a second with nothing else to
start), or not at all (``off``: a ``flask search sync --follow`` worker does it).
"""

from __future__ import annotations

import logging
import os
import threading

from flask import Flask, current_app, has_app_context

from academy.search import outbox
from academy.search.service import TextMatch, highlight, match_text
from academy.search.store import IndexStore

__all__ = ["TextMatch", "highlight", "match_text", "init_app", "get_store", "SearchSync"]

log = logging.getLogger(__name__)


class SearchSync:
    """Applies the outbox to this app's index after commits, per the ``SEARCH_SYNC`` mode."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.mode = app.config["SEARCH_SYNC"]
        self.store = IndexStore(app.config["SEARCH_INDEX_DIR"])
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        #: set each time the worker thread finishes a pass (lets tests wait without sleeping)
        self.passed = threading.Event()

    def changed(self) -> None:
        """Something searchable was committed: apply it according to the mode."""
        if self.mode == "inline":
            self.run_once()
        elif self.mode == "background":
            self.start()
            self._wake.set()

    def run_once(self):
        from academy.extensions import db
        from academy.search import indexer

        with self.app.app_context():
            return indexer.sync(self.store, db.engine)

    def start(self) -> None:
        """Start this process's worker thread if it is not running (also after a fork)."""
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive()
            if alive and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._loop, name="search-sync", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop this process's worker thread (it finishes the pass it is in)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping = thread
            self._wake.set()
            thread.join(timeout=30)

    def _loop(self) -> None:
        interval = float(self.app.config["SEARCH_POLL_SECONDS"])
        me = threading.current_thread()
        while True:
            self._wake.wait(timeout=interval)
            self._wake.clear()
            if getattr(self, "_stopping", None) is me:
                return
            try:
                self.run_once()
            except Exception:  # keep the worker alive; the next change or poll retries
                log.exception("search sync failed")
            self.passed.set()


def _notify() -> None:
    if has_app_context():
        sync: SearchSync | None = current_app.extensions.get("academy.search")
        if sync is not None:
            sync.changed()


def get_store() -> IndexStore:
    """The current app's index store."""
    return current_app.extensions["academy.search"].store


def init_app(app: Flask) -> None:
    if app.config["SEARCH_SYNC"] not in ("inline", "background", "off"):
        raise ValueError("SEARCH_SYNC must be inline, background or off")
    from academy.search.views import bp

    app.register_blueprint(bp)
    sync = SearchSync(app)
    app.extensions["academy.search"] = sync
    outbox.install()
    outbox.on_commit(_notify)
    if sync.mode == "background":
        # Start polling with the first request (not here: the factory does no I/O), so changes
        # committed by other processes (an import, another worker) also arrive within a second.
        app.before_request(lambda: sync.start())
