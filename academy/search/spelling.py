"""Spelling suggestions from the words of the live index, held in memory per set of segments.

Whoosh's own ``suggest`` walks the on-disk term table with an automaton for every query, which
costs tens of milliseconds; here the words of the ``spell`` field are read once for the index's
current segments (shared by every thread of the process, and kept until the segments change) and
compared with rapidfuzz's Levenshtein distance in C.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from whoosh.searching import Searcher

from academy.search.ranker import Ranker

FIELD = "spell"
MAX_DISTANCE = 2
KEEP = 4  # vocabularies kept per process (threads may briefly be on older segments)


class SpellingIndex:
    """A vocabulary of the spell field, grouped by first letter (typos rarely change it)."""

    def __init__(self, words: set[str]) -> None:
        self.by_initial: dict[str, list[str]] = defaultdict(list)
        for word in sorted(words):
            self.by_initial[word[0]].append(word)

    def suggest(self, word: str, searcher: Searcher) -> str | None:
        """The closest indexed word to ``word`` (at most two edits; one for short words),
        the more frequent in ``searcher`` winning a tie; ``None`` when nothing is close."""
        if not word:
            return None
        limit = 1 if len(word) <= 4 else MAX_DISTANCE
        found = process.extract(
            word,
            self.by_initial.get(word[0], ()),
            scorer=Levenshtein.distance,
            score_cutoff=limit,
            limit=10,
        )
        if not found:
            return None
        best = min(distance for _candidate, distance, _index in found)
        closest = [candidate for candidate, distance, _index in found if distance == best]
        return max(closest, key=lambda c: (searcher.doc_frequency(FIELD, c), c))


_vocabularies: OrderedDict[tuple, SpellingIndex] = OrderedDict()
_lock = threading.Lock()


def _segment_words(reader) -> set[str]:
    words = set()
    for term in reader.lexicon(FIELD):
        word = term.decode("utf-8") if isinstance(term, bytes) else term
        if word:
            words.add(word)
    return words


def spelling_for(ranker: Ranker) -> SpellingIndex:
    """The spelling index of the segments ``ranker``'s searcher reads, built on first use by any
    thread from each segment's words (a segment's words are read once, however many sets of
    segments it belongs to)."""
    segments = ranker.segment_keys
    with _lock:
        index = _vocabularies.get(segments)
        if index is not None:
            _vocabularies.move_to_end(segments)
            return index
    words: set[str] = set()
    for leaf in ranker.leaves:
        words |= leaf.postings.memo("spell-words", lambda r=leaf.reader: _segment_words(r))
    index = SpellingIndex(words)
    with _lock:
        _vocabularies[segments] = index
        while len(_vocabularies) > KEEP:
            _vocabularies.popitem(last=False)
    return index
