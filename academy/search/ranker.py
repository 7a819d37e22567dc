"""BM25F ranking over Whoosh's postings, held as numpy arrays per index segment.

Whoosh scores by walking Python matcher objects over every matching posting, which made ranking
the larger part of a search page (about 50 ms at 10k courses). The index is still Whoosh's: this
module reads a term's postings from a segment once (document numbers and weights), keeps them for
as long as the segment lives, and scores with the formula Whoosh's ``BM25F`` uses, vectorised:

    idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average length)) * query boost

with Whoosh's own ``idf`` and average field lengths, and each field's lengths as Whoosh stores
them (one byte per document, decoded with its table). Segments never change once written except
for deletions, so postings are kept per segment and deletions are applied as a mask taken from
each new searcher. Phrases need positions: they are scored by Whoosh itself and added in.
``tests/test_ranker.py`` checks the scores against Whoosh's own searcher.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

# What ``whoosh.scoring.BM25F()`` uses when built without arguments, as ``IndexStore`` does.
_DEFAULTS = BM25F()
K1 = _DEFAULTS.K1
B = _DEFAULTS.B
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_LENGTHS[0] = 1.0  # never stored for a document that has the term; Whoosh's scorer default

_EMPTY_DOCS = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES = np.zeros(0, dtype=np.float64)


def read_postings(reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Every posting of ``field:text`` in a segment, deleted documents included, as
    (document numbers, weights). Reads Whoosh 3 posting blocks whole where it can; any other
    matcher is walked one posting at a time."""
    terms = getattr(reader, "_terms", None)
    if terms is not None:  # the raw postings: deletions are masked per searcher instead
        if field not in reader.schema:
            return _EMPTY_DOCS, _EMPTY_SCORES
        fieldobj = reader.schema[field]
        try:  # one look-up of the term, not one to ask whether it is there and one to read it
            matcher = terms.matcher(field, fieldobj.to_bytes(text), fieldobj.format)
        except TermNotFound:
            return _EMPTY_DOCS, _EMPTY_SCORES
    elif (field, text) in reader:
        matcher = reader.postings(field, text)
    else:
        return _EMPTY_DOCS, _EMPTY_SCORES
    if all(hasattr(matcher, name) for name in ("_read_data", "_read_weights", "_goto", "_byteids")):
        # a W3LeafMatcher: one block of up to 128 postings at a time, its document numbers
        # stored as gaps from the block's start (unless ``_byteids``), summed here with numpy
        # rather than one by one in Python as its ``_read_ids`` does
        id_blocks, weight_blocks = [], []
        while True:
            if matcher._data is None:
                matcher._read_data()
            block = np.array(matcher._data[0], dtype=np.int64)
            id_blocks.append(block if matcher._byteids else np.cumsum(block))
            matcher._read_weights()
            weight_blocks.append(np.array(matcher._weights, dtype=np.float64))
            if matcher._lastblock:
                break
            matcher._goto(matcher._nextoffset)
        return np.concatenate(id_blocks), np.concatenate(weight_blocks)
    ids: list[int] = []
    weights: list[float] = []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


def read_lengths(reader, field: str) -> np.ndarray:
    """Each document's length in ``field`` as Whoosh's scorer sees it (stored as a byte)."""
    count = reader.doc_count_all()
    perdoc = getattr(reader, "_perdoc", None)
    if perdoc is None or not hasattr(perdoc, "_cached_reader"):
        return np.array(
            [reader.doc_field_length(doc, field, 1) or 1 for doc in range(count)],
            dtype=np.float64,
        )
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

    column = perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
    if column is None:  # no document has the field
        return np.ones(count, dtype=np.float64)
    if getattr(column, "_fixedlen", None) == 1 and hasattr(column, "_dbfile"):
        # one byte per document, stored contiguously: read them at once
        stored = min(column._count, count)
        lengths = np.zeros(count, dtype=np.uint8)
        raw = bytes(column._dbfile.get(column._basepos, stored))
        lengths[:stored] = np.frombuffer(raw, dtype=np.uint8)
        return _LENGTHS[lengths]
    return _LENGTHS[np.fromiter(column, dtype=np.uint8, count=count)]


class SegmentPostings:
    """One segment's postings and field lengths, read on first use and kept with the segment."""

    def __init__(self, segment_id: str, doc_count: int) -> None:
        self.segment_id = segment_id
        self.doc_count = doc_count
        self._postings: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._lengths: dict[str, np.ndarray] = {}
        self._derived: dict[str, object] = {}

    def memo(self, name: str, build):
        """What ``build()`` makes from this segment, made once (``name`` says what it is)."""
        found = self._derived.get(name)
        if found is None:
            found = self._derived[name] = build()
        return found

    def course_ids(self, reader) -> np.ndarray:
        """The course id of each document of the segment (0 for none)."""

        def build() -> np.ndarray:
            column = reader.column_reader("id")
            return np.array([int(value) if value else 0 for value in column], dtype=np.int64)

        return self.memo("course_ids", build)

    def postings(self, reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        key = (field, text)
        found = self._postings.get(key)
        if found is None:  # two threads may both read it; either copy is the same
            found = self._postings[key] = read_postings(reader, field, text)
        return found

    def lengths(self, reader, field: str) -> np.ndarray:
        found = self._lengths.get(field)
        if found is None:
            found = self._lengths[field] = read_lengths(reader, field)
        return found


class _SegmentCache:
    """Segments' postings for the whole process, dropped when no live searcher has them."""

    def __init__(self) -> None:
        self._segments: dict[tuple[str, int], SegmentPostings] = {}
        self._lock = threading.Lock()

    def get(self, segment_id: str, doc_count: int) -> SegmentPostings:
        key = (segment_id, doc_count)
        with self._lock:
            found = self._segments.get(key)
            if found is None:
                found = self._segments[key] = SegmentPostings(segment_id, doc_count)
            return found

    def keep_only(self, keys: set[tuple[str, int]], at_least: int = 64) -> None:
        """Forget segments not in ``keys`` once there are more than ``at_least`` (other threads'
        searchers may still be on older segments for a moment; they read them again if so)."""
        with self._lock:
            if len(self._segments) > at_least:
                for key in [key for key in self._segments if key not in keys]:
                    del self._segments[key]


SEGMENTS = _SegmentCache()


@dataclass
class _Leaf:
    reader: object
    offset: int
    postings: SegmentPostings
    live: np.ndarray | None  # False where a document is deleted; None when none is


class Ranker:
    """Scores terms over one searcher's segments. Made once per searcher (``ranker_for``)."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.doc_count = searcher.doc_count_all()
        self.leaves: list[_Leaf] = []
        keys: list[tuple[str, int]] = []
        for sub, offset in searcher.leaf_searchers():
            reader = sub.reader()
            count = reader.doc_count_all()
            segment = reader.segment() if hasattr(reader, "segment") else None
            segment_id = segment.segment_id() if segment is not None else f"reader-{id(reader)}"
            keys.append((segment_id, count))
            live = None
            if reader.has_deletions():
                live = np.ones(count, dtype=bool)
                deleted = getattr(reader, "deleted_docs_set", None)
                if deleted is None:
                    deleted = [doc for doc in range(count) if reader.is_deleted(doc)]
                live[np.fromiter(deleted, dtype=np.int64)] = False
            self.leaves.append(_Leaf(reader, offset, SEGMENTS.get(segment_id, count), live))
        SEGMENTS.keep_only(set(keys))
        #: the segments this searcher reads (what per-process structures are shared under)
        self.segment_keys = tuple(keys)
        self._avg: dict[str, float] = {}
        self._course_ids: np.ndarray | None = None

    @property
    def course_ids(self) -> np.ndarray:
        """Course id by document number across the searcher's segments."""
        if self._course_ids is None:
            parts = [leaf.postings.course_ids(leaf.reader) for leaf in self.leaves]
            self._course_ids = np.concatenate(parts) if parts else _EMPTY_DOCS
        return self._course_ids

    def term(self, field: str, text: str, boost: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """(document numbers, BM25F scores × ``boost``) of the live documents with the term."""
        searcher = self.searcher
        if self.doc_count == 0:
            return _EMPTY_DOCS, _EMPTY_SCORES
        found = [(leaf, *leaf.postings.postings(leaf.reader, field, text)) for leaf in self.leaves]
        found = [(leaf, docs, tf) for leaf, docs, tf in found if len(docs)]
        if not found:  # the usual case for a word's plural or singular: no idf to work out
            return _EMPTY_DOCS, _EMPTY_SCORES
        idf = searcher.idf(field, text)
        average = self._avg.get(field)
        if average is None:
            average = self._avg[field] = searcher.avg_field_length(field) or 1
        docs_parts, score_parts = [], []
        for leaf, docs, tf in found:
            length = leaf.postings.lengths(leaf.reader, field)[docs]
            score = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * length / average)))
            if leaf.live is not None:
                keep = leaf.live[docs]
                docs, score = docs[keep], score[keep]
            docs_parts.append(docs + leaf.offset)
            score_parts.append(score)
        if not docs_parts:
            return _EMPTY_DOCS, _EMPTY_SCORES
        docs = np.concatenate(docs_parts) if len(docs_parts) > 1 else docs_parts[0]
        score = np.concatenate(score_parts) if len(score_parts) > 1 else score_parts[0]
        return docs, (score * boost if boost != 1.0 else score)

    def phrase(self, field: str, terms: list[str], boost: float = 1.0):
        """(document numbers, scores) of a phrase, scored by Whoosh (it needs positions)."""
        results = self.searcher.search(wq.Phrase(field, terms, boost=boost), limit=None)
        if not results.top_n:
            return _EMPTY_DOCS, _EMPTY_SCORES
        scores, docs = zip(*results.top_n, strict=True)
        return np.array(docs, dtype=np.int64), np.array(scores, dtype=np.float64)


def ranker_for(searcher: Searcher) -> Ranker:
    """The ranker of ``searcher``, made on first use (a searcher is one state of the index)."""
    ranker = getattr(searcher, "_academy_ranker", None)
    if ranker is None:
        ranker = Ranker(searcher)
        searcher._academy_ranker = ranker
    return ranker
