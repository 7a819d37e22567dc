"""Text matching: what the rest of the app calls. Ids come out ranked; the database decides
what is shown (``academy.catalogue.browse`` re-reads them through the visibility rules)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup, escape
from whoosh import highlight as wh
from whoosh import query as wq
from whoosh.searching import Searcher

from academy.search.query import Unit, _analysed, parse, unit_parts
from academy.search.ranker import Ranker, ranker_for
from academy.search.schema import TEXT_FIELDS, highlight_analyzer
from academy.search.spelling import spelling_for
from academy.search.store import IndexStore


@dataclass
class TextMatch:
    """The courses matching some text, best first, and what the page should say about it."""

    query: str  # the text actually searched (the suggestion, when ``corrected_from`` is set)
    ranked_ids: list[int]
    units: list[Unit] = field(default_factory=list)
    suggestion: str | None = None  # "Did you mean …?"
    corrected_from: str | None = None  # the typed text, when it found nothing and we used the fix
    index_missing: bool = False

    @property
    def terms(self) -> frozenset[str]:
        """Indexed forms of every word the match looked for (for highlighting)."""
        return frozenset(
            term for unit in self.units for alt in unit.alternatives for term in _analysed(alt)
        )


def _minimum_units(count: int) -> int:
    """A good match has at least half of the query's units (all of one or two)."""
    return 1 if count <= 2 else math.ceil(count / 2)


def score_units(ranker: Ranker, units: list[Unit]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per document number: the summed score of every part of every unit (each alternative in
    each text field, as Whoosh's ``Or`` of them all would score it), how many units it matches,
    and whether it matches any."""
    scores = np.zeros(ranker.doc_count, dtype=np.float64)
    matched = np.zeros(ranker.doc_count, dtype=np.int16)
    hit = np.zeros(ranker.doc_count, dtype=bool)
    for unit in units:
        in_unit = np.zeros(ranker.doc_count, dtype=bool)
        for terms, boost in unit_parts(unit):
            for name in TEXT_FIELDS:
                if len(terms) == 1:
                    docs, part = ranker.term(name, terms[0], boost)
                else:
                    docs, part = ranker.phrase(name, terms, boost)
                scores[docs] += part  # a part's documents are distinct, so no add.at needed
                in_unit[docs] = True
        matched += in_unit
        hit |= in_unit
    return scores, matched, hit


def _rank(searcher: Searcher, units: list[Unit]) -> list[int]:
    """Course ids best first: most units matched, then an exact title, then the BM25F score
    (see ``score_units``), then index order.
    Only documents matching at least ``_minimum_units`` units are kept."""
    if not units or searcher.doc_count() == 0:
        return []
    ranker = ranker_for(searcher)
    scores, matched, _hit = score_units(ranker, units)
    candidates = np.flatnonzero(matched >= _minimum_units(len(units)))
    if not len(candidates):
        return []
    exact = np.zeros(len(scores), dtype=bool)
    exact[list(_exact_titles(searcher, units))] = True
    order = np.lexsort((candidates, -scores[candidates], ~exact[candidates], -matched[candidates]))
    return ranker.course_ids[candidates[order]].tolist()


def _exact_titles(searcher: Searcher, units: list[Unit]) -> set[int]:
    """Documents whose whole title is what was typed (ranked first among equal matches)."""
    terms = [term for unit in units for term in _analysed(unit.typed or unit.alternatives[0])]
    if not terms:
        return set()
    return set(searcher.docs_for_query(wq.Term("title_exact", " ".join(terms))))


def _suggest(searcher: Searcher, text: str, units: list[Unit]) -> str | None:
    corrected = text
    changed = False
    for unit in units:
        word = unit.single_word
        if word is None or searcher.doc_frequency("spell", word) > 0:
            continue
        vocabulary = spelling_for(ranker_for(searcher))
        option = vocabulary.suggest(word, searcher)
        if option and option != word:
            corrected = _replace_word(corrected, unit.text, option)
            changed = True
    return corrected if changed else None


def _replace_word(text: str, word: str, replacement: str) -> str:
    """Replace ``word`` (already folded to lower case without accents) in ``text``."""
    from academy.search.query import words

    out, done = [], False
    for token in text.split():
        if not done and words(token) == [word]:
            out.append(replacement)
            done = True
        else:
            out.append(token)
    return " ".join(out) if done else f"{text} {replacement}"


def match_text(store: IndexStore, text: str) -> TextMatch:
    """Rank the indexed courses against ``text``; suggest a spelling; fall back to it when the
    typed text finds nothing. Never raises for any text."""
    searcher = store.searcher()
    if searcher is None:
        return TextMatch(query=text, ranked_ids=[], index_missing=True)
    units = parse(text)
    ranked = _rank(searcher, units)
    suggestion = _suggest(searcher, text, units)
    if not ranked and suggestion:
        corrected_units = parse(suggestion)
        corrected = _rank(searcher, corrected_units)
        if corrected:
            return TextMatch(
                suggestion, corrected, corrected_units, suggestion, corrected_from=text
            )
    return TextMatch(text, ranked, units, suggestion)


def highlight(text: str, terms: frozenset[str], whole: bool = False) -> Markup:
    """``text`` escaped, with words matching ``terms`` wrapped in ``<mark>``.

    ``whole`` keeps the entire text (titles); otherwise the best fragments are kept (summaries).
    Neither the text nor the query can inject HTML: everything outside the marks is escaped.
    """
    if not text:
        return Markup("")
    if terms:
        fragmenter = wh.WholeFragmenter() if whole else wh.ContextFragmenter(300, 80)
        # a formatter per call: it numbers the terms it has seen, and threads share this code
        formatter = wh.HtmlFormatter(tagname="mark", classname="hit", termclass="t", between=" … ")
        marked = wh.highlight(text, terms, highlight_analyzer, fragmenter, formatter, top=2)
        if marked:
            # Whoosh's HtmlFormatter escapes all the text around the marks (a test holds it)
            return Markup(marked)  # nosec B704
    return escape(text)
