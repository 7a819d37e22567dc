"""Spelling suggestions from the words of the live index, held in memory per searcher.

Whoosh's own ``suggest`` walks the on-disk term table with an automaton for every query, which
costs tens of milliseconds; here the words of the ``spell`` field are read once per index
generation and compared with rapidfuzz's Levenshtein distance in C.
"""

from __future__ import annotations

from collections import defaultdict

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from whoosh.searching import Searcher

FIELD = "spell"
MAX_DISTANCE = 2


class SpellingIndex:
    """The spell field's vocabulary, grouped by first letter (typos rarely change it)."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.by_initial: dict[str, list[str]] = defaultdict(list)
        for term in searcher.reader().lexicon(FIELD):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            if word:
                self.by_initial[word[0]].append(word)

    def suggest(self, word: str) -> str | None:
        """The closest indexed word to ``word`` (at most two edits; one for short words),
        the more frequent winning a tie; ``None`` when nothing is close."""
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
        return max(closest, key=lambda c: (self.searcher.doc_frequency(FIELD, c), c))


def spelling_for(searcher: Searcher) -> SpellingIndex:
    """The spelling index of ``searcher``'s generation, built on first use."""
    index = getattr(searcher, "_academy_spelling", None)
    if index is None:
        index = SpellingIndex(searcher)
        searcher._academy_spelling = index
    return index
