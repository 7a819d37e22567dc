"""Turn what a learner typed into the units a search looks for, in a small query language.

The language is the one search engines taught everyone (``templates/catalogue/search_help.html``
explains it to learners):

- words are all required: ``trauma prison`` finds courses about both (``AND`` may be written;
  it also leaves out the courses matching all but one word that a short list is followed by);
- ``"quoted words"`` must appear together, in that order;
- ``-word``, ``-"a phrase"`` or ``NOT word`` leaves out courses that have it;
- ``OR`` (in capitals) between two words or phrases accepts either.

Each wanted thing becomes a *unit*: a quoted phrase, a run of words that matches a synonym entry
(``search/synonyms.txt``), or a single word, with every way of writing it as its alternatives
(``OR`` joins two units into one). Nothing the learner types can raise: an unbalanced quote is
ignored, an operator with nothing beside it is dropped, ``field:value``, ``*``, brackets, control
characters and emoji are just characters, and at most ``MAX_UNITS`` units of each kind count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from whoosh.analysis import STOP_WORDS

from academy.search.schema import plain_analyzer, text_analyzer

MAX_QUERY_CHARS = 500
MAX_UNITS = 8
SYNONYMS_FILE = Path(__file__).with_name("synonyms.txt")
_QUOTED = re.compile(r'"([^"]*)"')
# a quoted phrase (perhaps excluded with a leading "-"), or a run of anything but spaces and quotes
_PIECE = re.compile(r'(-?)"([^"]*)"|([^\s"]+)')
_OPERATORS = frozenset({"OR", "AND", "NOT"})


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


@dataclass(frozen=True)
class ParsedQuery:
    """What was asked: units every result must match, and units no result may match."""

    units: list[Unit]
    excluded: list[Unit]
    #: ``AND`` was typed: only courses matching every word, none matching most of them
    strict: bool = False


def parse(text: str) -> list[Unit]:
    """The units a result must match (see ``parse_query``). Never raises."""
    return parse_query(text).units


def parse_query(text: str) -> ParsedQuery:
    """Read ``text`` in the query language of the module docstring. Never raises."""
    text = text[:MAX_QUERY_CHARS]
    if text.count('"') % 2:  # an unbalanced quote is ignored: the last one stands alone
        cut = text.rindex('"')
        text = text[:cut] + " " + text[cut + 1 :]
    wanted: list[Unit | str] = []  # units and "OR" markers, in the order typed
    excluded: list[Unit] = []
    run: list[str] = []  # plain words waiting to be grouped into synonym units
    negate_next = strict = False

    def flush() -> None:
        wanted.extend(_word_units(run))
        run.clear()

    for match in _PIECE.finditer(text):
        minus, quoted, raw = match.groups()
        if quoted is not None:
            tokens = words(quoted)
            unit = Unit(quoted.strip(), (tuple(tokens),), phrase=True) if tokens else None
            negated, negate_next = bool(minus) or negate_next, False
            flush()
            if unit is not None and searchable(unit.alternatives[0]):
                (excluded if negated else wanted).append(unit)
            continue
        if raw in _OPERATORS:
            flush()
            if raw == "OR":
                wanted.append("OR")
            strict = strict or raw == "AND"
            negate_next = raw == "NOT"
            continue
        negated = negate_next or (raw.startswith("-") and len(raw) > 1)
        negate_next = False
        tokens = words(raw.lstrip("-+") if negated or raw.startswith("+") else raw)
        if negated:
            flush()
            excluded.extend(_word_units(tokens))
        else:
            run.extend(tokens)
    flush()
    units = _join_alternatives(wanted)
    return ParsedQuery(units[:MAX_UNITS], excluded[:MAX_UNITS], strict)


def _word_units(tokens: list[str]) -> list[Unit]:
    """Plain words as units: the longest runs found in the synonyms, then single words; words
    with no indexed form (stop words) are left out."""
    synonyms = load_synonyms()
    longest = max((len(key) for key in synonyms), default=1)
    units: list[Unit] = []
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
    return [unit for unit in units if searchable(unit.alternatives[0])]


def _join_alternatives(wanted: list[Unit | str]) -> list[Unit]:
    """Units with each ``A OR B`` made one unit accepting either (an ``OR`` with no unit on one
    side is dropped)."""
    units: list[Unit] = []
    join = False
    for item in wanted:
        if item == "OR":
            join = bool(units)
            continue
        if not isinstance(item, Unit):  # only units and "OR" are ever in ``wanted``
            continue
        if join:
            left = units.pop()
            alternatives = tuple(dict.fromkeys(left.alternatives + item.alternatives))
            item = Unit(f"{left.text} OR {item.text}", alternatives, typed=left.typed)
        units.append(item)
        join = False
    return units


@lru_cache(maxsize=4096)
def _analysed_word(word: str) -> str | None:
    terms = [token.text for token in text_analyzer()(word)]
    return terms[0] if terms else None


def letter_word(word: str) -> bool:
    """A one-letter word that is not a stop word ("R", "C"): the stemmed fields drop it, so it
    is looked for as written in the visible text only (``service._exact``)."""
    return len(word) == 1 and word.isalnum() and word not in STOP_WORDS


def searchable(sequence: tuple[str, ...]) -> bool:
    """Whether a word sequence has anything to look for."""
    return bool(_analysed(sequence)) or any(letter_word(word) for word in sequence)


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
