"""Turn what a learner typed into Whoosh queries, without ever interpreting it as syntax.

The text is split into *units*: a quoted phrase, a run of words that matches a synonym entry, or
a single word. Each unit becomes an ``Or`` of its alternatives (synonyms and spelling variants)
across every text field. Nothing the learner types can raise: quotes, operators, ``field:value``,
``*``, control characters and emoji are just characters, and at most ``MAX_UNITS`` units count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from academy.search.schema import plain_analyzer, text_analyzer

MAX_QUERY_CHARS = 500
MAX_UNITS = 8
SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")
_QUOTED = re.compile(r'"([^"]*)"')


def words(text: str) -> list[str]:
    """Lower-cased, accent-folded words of ``text`` (no stemming, stop words kept)."""
    return [token.text for token in plain_analyzer()(text)]


@lru_cache(maxsize=4)
def load_synonyms(path: Path = SYNONYMS_FILE) -> dict[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Map each variant (as a tuple of words) to every variant of its line."""
    table: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        variants = tuple(dict.fromkeys(tuple(words(part)) for part in line.split(",")))
        variants = tuple(v for v in variants if v)
        for variant in variants:
            table[variant] = tuple(dict.fromkeys(table.get(variant, ()) + variants))
    return table


@dataclass(frozen=True)
class Unit:
    """One thing the learner asked for, with every way of writing it."""

    text: str  # as it reads in the query, for messages
    alternatives: tuple[tuple[str, ...], ...]  # each a word sequence (one word or a phrase)
    phrase: bool = False  # typed in quotes
    typed: tuple[str, ...] = ()  # the alternative the learner wrote, ranked above its synonyms

    @property
    def single_word(self) -> str | None:
        """The word, when the unit is one plain word with no synonyms."""
        if not self.phrase and len(self.alternatives) == 1 and len(self.alternatives[0]) == 1:
            return self.alternatives[0][0]
        return None


def parse(text: str) -> list[Unit]:
    """Split ``text`` into units (see the module docstring). Never raises."""
    text = text[:MAX_QUERY_CHARS]
    units: list[Unit] = []
    synonyms = load_synonyms()
    longest = max((len(key) for key in synonyms), default=1)
    for index, part in enumerate(_QUOTED.split(text)):
        tokens = words(part)
        if index % 2 == 1:  # inside quotes
            if tokens:
                units.append(Unit(part.strip(), (tuple(tokens),), phrase=True))
            continue
        position = 0
        while position < len(tokens):
            for size in range(min(longest, len(tokens) - position), 0, -1):
                key = tuple(tokens[position : position + size])
                if key in synonyms:
                    units.append(Unit(" ".join(key), synonyms[key], typed=key))
                    position += size
                    break
            else:
                units.append(Unit(tokens[position], ((tokens[position],),)))
                position += 1
    searchable = [unit for unit in units if _analysed(unit.alternatives[0])]
    return searchable[:MAX_UNITS]


@lru_cache(maxsize=4096)
def _analysed_word(word: str) -> str | None:
    terms = [token.text for token in text_analyzer()(word)]
    return terms[0] if terms else None


def _analysed(sequence: tuple[str, ...]) -> list[str]:
    """The indexed forms of a word sequence (stemmed, stop words dropped)."""
    return [term for word in sequence if (term := _analysed_word(word))]


def unit_parts(unit: Unit) -> list[tuple[list[str], float]]:
    """Each alternative of ``unit`` as its indexed terms with its boost (what the learner typed
    counts double); alternatives with no indexed words are left out."""
    parts = []
    for alternative in unit.alternatives:
        terms = _analysed(alternative)
        if terms:
            parts.append((terms, 2.0 if alternative == unit.typed else 1.0))
    return parts
