"""The index on local disk: generations, the pointer to the live one, and what it has applied.

Layout of ``SEARCH_INDEX_DIR``::

    INDEX_ID          a name for this index, stable across rebuilds (its row in the positions table)
    CURRENT           the name of the live generation, swapped atomically by a rebuild
    gen-000001/       a complete Whoosh index, plus state.json: the outbox entries it has applied
    rebuild.lock      held while a rebuild runs

Readers open the live generation and never wait for a lock. Writers take Whoosh's own write lock
without waiting: a process that cannot get it leaves the work to the one that has it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import clean_files
from whoosh.searching import Searcher
from whoosh.writing import SegmentWriter

from academy.search.schema import make_schema

GENERATION_PREFIX = "gen-"


class LazyWriter:
    """Whoosh's writer for one sync, made only when a document is added or deleted.

    Whoosh's ``SegmentWriter`` creates its new segment's files as soon as it is made, and its
    ``cancel`` leaves them behind until the next commit. A sync that finds nothing to apply (the
    follower's every poll) would add three files to the index folder each time, and every search
    lists that folder to see whether the index changed. This holds the index's write lock from
    the start, and a cancel removes whatever files the cancelled segment made.
    """

    def __init__(self, ix, lock) -> None:
        self.ix, self.lock = ix, lock
        self._writer: SegmentWriter | None = None
        self._open = True

    def _made(self) -> SegmentWriter:
        if self._writer is None:
            self._writer = SegmentWriter(self.ix, _lk=False)
        return self._writer

    def update_document(self, **fields) -> None:
        self._made().update_document(**fields)

    def delete_by_term(self, fieldname: str, text: str) -> int:
        return self._made().delete_by_term(fieldname, text)

    def commit(self) -> None:
        """Write the segment (if anything was added or deleted) and release the lock."""
        try:
            if self._writer is not None:
                self._writer.commit()
        finally:
            self._release()

    def cancel(self) -> None:
        """Drop what was added or deleted, remove the segment's files, release the lock."""
        if not self._open:
            return
        try:
            if self._writer is not None:
                self._writer.cancel()
                toc = self.ix._read_toc()
                clean_files(self.ix.storage, self.ix.indexname, toc.generation, toc.segments)
        finally:
            self._release()

    def _release(self) -> None:
        if self._open:
            self._open = False
            self.lock.release()


@dataclass
class IndexState:
    """The outbox entries a generation has applied: every id up to ``last_id`` except ``gaps``.

    A gap is an id above which entries were seen but which was itself not yet visible (its
    transaction had not committed). Gaps are retried until they appear or grow old (a rolled-back
    transaction never fills its id).
    """

    last_id: int = 0
    gaps: dict[str, float] = field(default_factory=dict)  # id -> when first noticed (epoch s)
    schema: int = 0  # the SCHEMA_VERSION the generation was built with

    def to_json(self) -> str:
        return json.dumps({"last_id": self.last_id, "gaps": self.gaps, "schema": self.schema})

    @classmethod
    def from_json(cls, text: str) -> IndexState:
        data = json.loads(text)
        return cls(
            last_id=int(data.get("last_id", 0)),
            gaps=dict(data.get("gaps", {})),
            schema=int(data.get("schema", 0)),
        )


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class IndexStore:
    """One index directory. Cheap to create; touches the disk only when used."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._local = threading.local()
        # path -> (its stat when read, its text): CURRENT and state.json, read on every request
        self._texts: dict[Path, tuple[tuple[int, ...], str]] = {}

    def _read_text(self, path: Path) -> str:
        """``path``'s text, read again only when its stat (inode, size, times) has changed: every
        write here replaces the file (``_write_atomically``), which gives it a new inode.

        :raise FileNotFoundError: when it does not exist.
        """
        info = os.stat(path)
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        kept = self._texts.get(path)
        if kept is not None and kept[0] == key:
            return kept[1]
        # read after the stat: if replaced in between, the next stat differs and reads it again
        text = path.read_text(encoding="utf-8")
        if len(self._texts) > 16:  # old generations' states: keep the memory bounded
            self._texts.clear()
        self._texts[path] = (key, text)
        return text

    # -- generations -------------------------------------------------------------------------
    @property
    def index_id(self) -> str:
        path = self.root / "INDEX_ID"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            try:
                with path.open("x", encoding="utf-8") as handle:
                    handle.write(uuid.uuid4().hex)
            except FileExistsError:
                pass
        return path.read_text(encoding="utf-8").strip()

    def current_generation(self) -> Path | None:
        """The live generation's folder, or ``None`` when no index has been built."""
        try:
            name = self._read_text(self.root / "CURRENT").strip()
        except FileNotFoundError:
            return None
        path = self.root / name
        return path if path.is_dir() else None

    def exists(self) -> bool:
        return self.current_generation() is not None

    def new_generation(self) -> Path:
        """Create an empty generation beside the live one (not yet live)."""
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [
            int(p.name.removeprefix(GENERATION_PREFIX))
            for p in self.root.glob(f"{GENERATION_PREFIX}*")
            if p.name.removeprefix(GENERATION_PREFIX).isdigit()
        ]
        path = self.root / f"{GENERATION_PREFIX}{max(numbers, default=0) + 1:06d}"
        path.mkdir()
        whoosh_index.create_in(str(path), make_schema())
        return path

    def make_live(self, generation: Path, keep: int = 2) -> None:
        """Point ``CURRENT`` at ``generation`` atomically; remove all but the newest ``keep``."""
        _write_atomically(self.root / "CURRENT", generation.name)
        generations = sorted(self.root.glob(f"{GENERATION_PREFIX}*"))
        for old in generations[:-keep]:
            if old != generation:
                shutil.rmtree(old, ignore_errors=True)

    def ensure(self) -> Path:
        """The live generation, creating an empty one when there is none."""
        with self._rebuild_lock():
            current = self.current_generation()
            if current is None:
                current = self.new_generation()
                self.make_live(current)
        return current

    # -- state -------------------------------------------------------------------------------
    @staticmethod
    def read_state(generation: Path) -> IndexState:
        try:
            return IndexState.from_json((generation / "state.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return IndexState()

    def applied(self, generation: Path) -> tuple[int, tuple[str, ...]]:
        """What ``generation`` has applied, as ``read_state`` reads it (its last id and its gaps,
        sorted), with state.json read again only when it has been replaced."""
        try:
            state = IndexState.from_json(self._read_text(generation / "state.json"))
        except FileNotFoundError:
            state = IndexState()
        return state.last_id, tuple(sorted(state.gaps))

    @staticmethod
    def write_state(generation: Path, state: IndexState) -> None:
        _write_atomically(generation / "state.json", state.to_json())

    # -- reading -----------------------------------------------------------------------------
    def searcher(self) -> Searcher | None:
        """A searcher on the live generation, reused per thread and refreshed when it changed.

        Returns ``None`` when there is no index yet. Never waits for a lock.
        """
        generation = self.current_generation()
        if generation is None:
            return None
        cached: tuple[Path, Searcher] | None = getattr(self._local, "cached", None)
        if cached and cached[0] == generation and cached[1].up_to_date():
            return cached[1]
        if cached:
            # Searchers are kept per thread and a thread serves one request at a time, so the
            # old one is no longer in use. (Whoosh's refresh() is avoided: it fails when the
            # previous reader was of an empty index.)
            cached[1].close()
        searcher = _open_searcher(generation)
        self._local.cached = (generation, searcher)
        return searcher

    def close(self) -> None:
        cached = getattr(self._local, "cached", None)
        if cached:
            cached[1].close()
            self._local.cached = None

    # -- writing -----------------------------------------------------------------------------
    @contextmanager
    def writer(self, generation: Path) -> Iterator[LazyWriter | None]:
        """Yield a :class:`LazyWriter` holding ``generation``'s write lock, or ``None`` if
        another writer holds it. Leaving the block by an exception cancels it."""
        ix = whoosh_index.open_dir(str(generation))
        lock = ix.lock("WRITELOCK")
        if not lock.acquire(False):
            yield None
            return
        writer = LazyWriter(ix, lock)
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise

    @contextmanager
    def _rebuild_lock(self, wait: bool = True) -> Iterator[bool]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "rebuild.lock", "a") as handle:
            flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB
            try:
                fcntl.flock(handle, flags)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def rebuild_lock(self, wait: bool = True):
        """Held while a rebuild (or the first creation) runs; yields whether it was acquired."""
        return self._rebuild_lock(wait)


def _open_searcher(generation: Path, tries: int = 5) -> Searcher:
    """A searcher on the newest commit of ``generation``.

    A writer that commits between Whoosh reading the list of table-of-contents files and
    opening the newest one removes the older files, and the open fails with
    ``FileNotFoundError``; the next try reads the new table of contents.
    """
    for remaining in range(tries - 1, -1, -1):
        try:
            return whoosh_index.open_dir(str(generation)).searcher()
        except FileNotFoundError:
            if remaining == 0:
                raise
    raise ValueError("tries must be at least 1")
