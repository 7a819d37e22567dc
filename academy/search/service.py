"""Text matching: what the rest of the app calls. Ids come out ranked; the database decides
what is shown (``academy.catalogue.browse`` re-reads them through the visibility rules)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
from markupsafe import Markup, escape
from rapidfuzz.distance import Levenshtein
from whoosh import highlight as wh
from whoosh import query as wq
from whoosh.searching import Searcher

from academy.search.query import (
    ParsedQuery,
    Unit,
    _analysed,
    letter_word,
    parse_query,
    unit_parts,
    words,
)
from academy.search.ranker import Ranker, ranker_for
from academy.search.schema import TEXT_FIELDS, highlight_analyzer, marked_spans, pair_key
from academy.search.spelling import spelling_for
from academy.search.store import IndexStore

#: fields a learner reads in a list of results; a match only in the body is not enough
VISIBLE_FIELDS = ("title", "summary", "provider", "taxonomy")
#: the words as written (``schema.make_schema``: ``spell``) and neighbouring pairs (``pairs``)
EXACT_FIELD, PAIR_FIELD = "spell", "pairs"
#: how much a word as typed (or its plural or singular) counts beside its stemmed form, and two
#: words typed next to each other found next to each other in a title or summary; tuned on the
#: judged queries of ``bench/relevance_judgments.yaml`` (``make relevance``)
EXACT_WEIGHT = 2.0
PAIR_WEIGHT = 1.0
#: added to a course's score in proportion to the share of the required words found in its
#: title (all of them: the whole weight): a title says what a course is about, where BM25 over
#: a short title field adds little beside a long description; tuned like the weights above
TITLE_COVERAGE_WEIGHT = 10.0
#: a word found in more than this share of the courses (``course``, ``introduction`` in most
#: catalogues) is not required when the query has other words; it still counts for ranking
OPTIONAL_SHARE = 0.2
#: ... in a catalogue of at least this many courses (in a small one, shares say little)
OPTIONAL_MIN_COURSES = 200
#: words that say what kind of thing a course is rather than what it is about: not required
#: when the query has other words
GENERIC_WORDS = frozenset(
    "course courses class classes introduction introductory intro basic basics beginner "
    "beginners fundamental fundamentals essential essentials foundation foundations principle "
    "principles overview online training skill skills".split()
)
#: with fewer full matches than this, courses missing one word follow them, marked as such
ENOUGH_FULL = 5
#: whether courses matching every word only in their description may stand alone, and then
#: only where each word weighs at least this much in the description (BM25's term-frequency
#: part: 1.0 is one mention in a description of average length)
BODY_ONLY_ALONE = True
BODY_ONLY_STRENGTH = 0.8
#: courses whose step suggests where to look when nothing fits
NEAR_COUNT = 5
#: a one-word query with few full matches is followed by courses whose title or summary has a
#: shorter form of the word, at least this long, that the stemmer keeps apart ("epidemics" for
#: "epidemiology", "biological" for "biology", "leader" for "leadership")
RELATED_MIN_LETTERS = 6
RELATED_FIELDS = ("title", "summary")


@dataclass
class TextMatch:
    """The courses matching some text, best first, and what the page should say about it."""

    query: str  # the text actually searched (the suggestion, when ``corrected_from`` is set)
    ranked_ids: list[int]
    units: list[Unit] = field(default_factory=list)
    suggestion: str | None = None  # "Did you mean …?"
    corrected_from: str | None = None  # the typed text, when it found nothing and we used the fix
    index_missing: bool = False
    excluded: list[Unit] = field(default_factory=list)
    #: when nothing matched every word: the courses matching most of them (for the closest step
    #: on the escalator, never shown as results) and a shorter query that finds something
    near_ids: list[int] = field(default_factory=list)
    fewer_words: str | None = None
    #: words not required because most courses have them
    optional: list[str] = field(default_factory=list)
    #: how many of ``ranked_ids`` (the first) match every required word; the rest match fewer
    full_count: int = 0

    @property
    def terms(self) -> frozenset[str]:
        """Indexed forms of every word the match looked for (for highlighting)."""
        return frozenset(
            term for unit in self.units for alt in unit.alternatives for term in _analysed(alt)
        )

    @property
    def nothing_fits(self) -> bool:
        """Something was asked and no course matches it well."""
        return not self.ranked_ids and not self.index_missing and bool(self.units)


def score_units(ranker: Ranker, units: list[Unit]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per document number: the summed score of every part of every unit (each alternative in
    each text field, as Whoosh's ``Or`` of them all would score it), how many units it matches,
    and whether it matches any."""
    scores = np.zeros(ranker.doc_count, dtype=np.float64)
    matched = np.zeros(ranker.doc_count, dtype=np.int16)
    for unit in units:
        in_unit, _visible = _add_unit(ranker, unit, scores)
        matched += in_unit
    return scores, matched, matched > 0


def _add_unit(ranker: Ranker, unit: Unit, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add ``unit``'s BM25F score to ``scores``; return where it matches, and where it matches in
    a field a learner sees (``VISIBLE_FIELDS``)."""
    in_unit = np.zeros(ranker.doc_count, dtype=bool)
    visible = np.zeros(ranker.doc_count, dtype=bool)
    for terms, boost in unit_parts(unit):
        for name in TEXT_FIELDS:
            if len(terms) == 1:
                docs, part = ranker.term(name, terms[0], boost)
            else:
                docs, part = ranker.phrase(name, terms, boost)
            scores[docs] += part  # a part's documents are distinct, so no add.at needed
            in_unit[docs] = True
            if name in VISIBLE_FIELDS:
                visible[docs] = True
    return in_unit, visible


def _word_forms(word: str) -> set[str]:
    """``word`` and its plural or singular, spelt simply: the forms that count as exact."""
    forms = {word, word + "s", word + "es"}
    if word.endswith("ies") and len(word) > 4:
        forms.add(word[:-3] + "y")
    elif word.endswith("es") and len(word) > 3:
        forms.update((word[:-1], word[:-2]))
    elif word.endswith("s") and len(word) > 3:
        forms.add(word[:-1])
    if word.endswith("y") and len(word) > 2:
        forms.add(word[:-1] + "ies")
    return forms


def _exact(ranker: Ranker, unit: Unit) -> tuple[np.ndarray, np.ndarray]:
    """Score of ``unit``'s words as the learner wrote them (or their plural or singular) in the
    visible text, and where they are all found so. A synonym stands in for what was typed, so
    only what was typed counts here."""
    scores = np.zeros(ranker.doc_count, dtype=np.float64)
    every = np.ones(ranker.doc_count, dtype=bool)
    typed = unit.typed or unit.alternatives[0]
    meaningful = [word for word in typed if _analysed((word,)) or letter_word(word)]
    for word in meaningful:
        has = np.zeros(ranker.doc_count, dtype=bool)
        for form in _word_forms(word) if len(word) > 2 else (word,):
            docs, part = ranker.term(EXACT_FIELD, form)
            scores[docs] += part
            has[docs] = True
        every &= has
    return scores, every if meaningful else np.zeros(ranker.doc_count, dtype=bool)


def _pairs(ranker: Ranker, units: list[Unit]) -> np.ndarray:
    """Score of neighbouring units found next to each other in a title or summary."""
    scores = np.zeros(ranker.doc_count, dtype=np.float64)
    for left, right in zip(units, units[1:], strict=False):
        if left.phrase or right.phrase:
            continue  # a phrase's own words are already held together
        first, second = (
            _analysed(left.typed or left.alternatives[0]),
            _analysed(right.typed or right.alternatives[0]),
        )
        if first and second:
            docs, part = ranker.term(PAIR_FIELD, pair_key(first[-1], second[0]))
            scores[docs] += part
    return scores


@dataclass
class _Ranked:
    ids: list[int]
    near_ids: list[int]
    fewer_words: str | None
    optional: list[str]
    full_count: int = 0


def _rank(searcher: Searcher, query: ParsedQuery) -> _Ranked:
    """Course ids best first: the courses matching every required unit of ``query``, at least
    one of them in a visible field, and no excluded unit; then those matching every unit only in
    the description (alone only with ``BODY_ONLY_ALONE``, and where they weigh enough there).
    With fewer than ``ENOUGH_FULL`` of these *full* matches, those missing one unit other than
    the rarest (``_rarity``) follow (not when ``AND`` was typed), so adding a word never finds
    more courses that match every word; a one-word query is followed instead by courses with a
    shorter form of its word in their title or summary (``_related_forms``).

    Within each group an exact title comes first, then the score: BM25F over the stemmed
    fields, words as typed (``EXACT_WEIGHT``), neighbouring words kept together
    (``PAIR_WEIGHT``) and the share of the words in the title (``TITLE_COVERAGE_WEIGHT``).
    A unit most courses match (``OPTIONAL_SHARE``), a generic word (``GENERIC_WORDS``) or a
    one-letter word no course has is not required when others are."""
    # Long because: the full, body-only and partial tiers share the score arrays computed here;
    # split, every tier would take them all (the hot path of every search).
    units = query.units
    if not units or searcher.doc_count() == 0:
        return _Ranked([], [], None, [])
    ranker = ranker_for(searcher)
    count = ranker.doc_count
    scores = np.zeros(count, dtype=np.float64)
    visible_units = np.zeros(count, dtype=np.int16)
    masks, visibles = [], []
    for unit in units:
        in_unit, visible = _add_unit(ranker, unit, scores)
        exact_scores, exact_found = _exact(ranker, unit)
        scores += EXACT_WEIGHT * exact_scores
        if unit.single_word is not None:  # a phrase's words must also be together
            visible |= exact_found
            in_unit |= exact_found
        visible_units += visible
        masks.append(in_unit)
        visibles.append(visible)
    scores += PAIR_WEIGHT * _pairs(ranker, units)
    live = max(searcher.doc_count(), 1)
    common = OPTIONAL_SHARE if live >= OPTIONAL_MIN_COURSES else 1.0
    required = [
        i
        for i, (unit, mask) in enumerate(zip(units, masks, strict=True))
        if mask.sum() / live <= common
        and unit.single_word not in GENERIC_WORDS
        # "R" finds R courses, while a stray letter no course has ("<b>") is not required
        and not (letter_word(unit.single_word or "") and not mask.any())
    ] or list(range(len(units)))
    allowed = np.ones(count, dtype=bool)
    for unit in query.excluded:
        in_excluded, _visible = _add_unit(ranker, unit, np.zeros(count, dtype=np.float64))
        if unit.single_word is not None:  # a word as written, one letter ("-R") included
            in_excluded |= _exact(ranker, unit)[1]
        allowed &= ~in_excluded
    matched = np.zeros(count, dtype=np.int16)
    for index in required:
        matched += masks[index]
    every = allowed & (matched == len(required))
    full = every & (visible_units > 0)
    optional = [units[i].text for i in range(len(units)) if i not in required]
    exact = np.zeros(count, dtype=bool)
    exact[list(_exact_titles(searcher, units))] = True
    scores += _title_coverage(ranker, [units[i] for i in required])

    def ordered(mask: np.ndarray) -> list[int]:
        found = np.flatnonzero(mask)
        order = np.lexsort((found, -scores[found], ~exact[found]))
        return ranker.course_ids[found[order]].tolist()

    ids = ordered(full)
    if ids:
        ids += ordered(every & ~full)  # every word, but only in the description: after
    elif BODY_ONLY_ALONE:
        ids = ordered(every & _strong_in_body(ranker, [units[i] for i in required]))
    full_count = len(ids)
    if ids and full_count < ENOUGH_FULL:
        if len(required) >= 2 and not query.strict:
            # all but one unit, and never without the rarest: "green care" may be followed by
            # courses about green things, not by every course that mentions care
            rarest = masks[min(required, key=lambda i: _rarity(masks[i], visibles[i]))]
            nearly = allowed & rarest & (visible_units > 0) & (matched == len(required) - 1)
            ids += ordered(nearly)
        elif len(required) == 1 and (word := units[required[0]].single_word) is not None:
            ids += ordered(allowed & ~every & _related_forms(ranker, word))
    if ids:
        return _Ranked(ids, [], None, optional, full_count)
    visible_any = allowed & (visible_units > 0)
    return _Ranked([], *_nearly(ranker, query, masks, required, visible_any, scores), optional)


def _rarity(mask: np.ndarray, visible: np.ndarray) -> tuple[bool, int]:
    """How common a unit is, for choosing the rarest (the smallest): by the courses that have
    it, after every unit some course shows a learner (``VISIBLE_FIELDS``). A word only ever in
    descriptions ("spreadsheets" beside "excel") is not what any course is about."""
    return not visible.any(), int(mask.sum())


def _title_coverage(ranker: Ranker, units: list[Unit]) -> np.ndarray:
    """``TITLE_COVERAGE_WEIGHT`` times the share of ``units`` found in each course's title."""
    found = np.zeros(ranker.doc_count, dtype=np.float64)
    if not units:
        return found
    for unit in units:
        in_title = np.zeros(ranker.doc_count, dtype=bool)
        for terms, _boost in unit_parts(unit):
            if len(terms) == 1:
                docs, _scores = ranker.term("title", terms[0])
            else:
                docs, _scores = ranker.phrase("title", terms)
            in_title[docs] = True
        found += in_title
    return found * (TITLE_COVERAGE_WEIGHT / len(units))


def _related_forms(ranker: Ranker, word: str) -> np.ndarray:
    """Where a title or summary (``RELATED_FIELDS``) has an indexed form that starts ``word``'s
    own and is at least ``RELATED_MIN_LETTERS`` long: the same word family, which the stemmer
    keeps apart. Only shorter forms count: longer ones join unrelated words ("internet" for
    "international", "universidad" for "universe")."""
    found = np.zeros(ranker.doc_count, dtype=bool)
    stems = _analysed((word,))
    if not stems:
        return found
    for size in range(RELATED_MIN_LETTERS, len(stems[0])):
        for name in RELATED_FIELDS:
            docs, _scores = ranker.term(name, stems[0][:size])
            found[docs] = True
    return found


def _strong_in_body(ranker: Ranker, units: list[Unit]) -> np.ndarray:
    """Where every unit weighs at least ``BODY_ONLY_STRENGTH`` in the description (a phrase
    found there always does): a passing mention in a long description is not an answer."""
    every = np.ones(ranker.doc_count, dtype=bool)
    for unit in units:
        strength = np.zeros(ranker.doc_count, dtype=np.float64)
        for terms, _boost in unit_parts(unit):
            if len(terms) > 1:
                docs, _scores = ranker.phrase("body", terms)
                strength[docs] = np.inf
                continue
            docs, scores = ranker.term("body", terms[0])
            idf = ranker.searcher.idf("body", terms[0])
            if len(docs) and idf > 0:
                strength[docs] = np.maximum(strength[docs], scores / idf)
        every &= strength >= BODY_ONLY_STRENGTH
    return every


def _nearly(
    ranker: Ranker,
    query: ParsedQuery,
    masks: list[np.ndarray],
    required: list[int],
    allowed: np.ndarray,
    scores: np.ndarray,
) -> tuple[list[int], str | None]:
    """When no course matches every required unit: the courses matching most of them (best
    first), and the query without the one unit whose absence leaves the most courses."""
    matched = np.zeros(ranker.doc_count, dtype=np.int16)
    for index in required:
        matched += masks[index]
    near = np.flatnonzero(allowed & (matched > 0))
    order = np.lexsort((near, -scores[near], -matched[near]))[:NEAR_COUNT]
    near_ids = ranker.course_ids[near[order]].tolist()
    fewer = None
    if len(required) >= 2:
        best = 0
        for dropped in required:
            kept = allowed.copy()
            for index in required:
                if index != dropped:
                    kept &= masks[index]
            found = int(kept.sum())
            if found > best:
                best = found
                rest = [unit for i, unit in enumerate(query.units) if i != dropped]
                fewer = " ".join(
                    [f'"{u.text}"' if u.phrase else u.text for u in rest]
                    + [f'-"{u.text}"' if u.phrase else f"-{u.text}" for u in query.excluded]
                )
    return near_ids, fewer


def _exact_titles(searcher: Searcher, units: list[Unit]) -> set[int]:
    """Documents whose whole title is what was typed (ranked first among equal matches)."""
    terms = [term for unit in units for term in _analysed(unit.typed or unit.alternatives[0])]
    if not terms:
        return set()
    return set(searcher.docs_for_query(wq.Term("title_exact", " ".join(terms))))


def _suggest(searcher: Searcher, text: str, units: list[Unit]) -> str | None:
    """``text`` with each word the index has never shown a learner replaced by the closest word
    it has (``spelling``), or ``None`` when there is nothing to fix. Only words as typed are
    checked: a plain word, or either side of an ``OR``; never a phrase or a synonym."""
    corrected = text
    changed = False
    for unit in units:
        if unit.phrase or unit.typed:
            continue
        for alternative in unit.alternatives:
            if len(alternative) != 1 or len(alternative[0]) < 3:
                continue  # a phrase, or too short to say what was meant
            if searcher.doc_frequency("spell", alternative[0]) > 0:
                continue
            word = alternative[0]
            option = spelling_for(ranker_for(searcher)).suggest(word, searcher)
            if option and option != word:
                corrected = _replace_word(corrected, word, option)
                changed = True
    return corrected if changed else None


def _replace_word(text: str, word: str, replacement: str) -> str:
    """Replace ``word`` (already folded to lower case without accents) in ``text``."""
    out, done = [], False
    for token in text.split():
        if not done and words(token) == [word]:
            out.append(replacement)
            done = True
        else:
            out.append(token)
    return " ".join(out) if done else f"{text} {replacement}"


def match_text(store: IndexStore, text: str) -> TextMatch:
    """Rank the indexed courses against ``text`` (see ``query`` for the language); suggest a
    spelling; when the typed text finds nothing and the suggestion is a near-certain fix of a
    typo (``_confident``), show the suggestion's results. Never raises for any text."""
    searcher = store.searcher()
    if searcher is None:
        return TextMatch(query=text, ranked_ids=[], index_missing=True)
    query = parse_query(text)
    ranked = _rank(searcher, query)
    suggestion = _suggest(searcher, text, query.units)
    if not ranked.ids and suggestion and _confident(text, suggestion):
        corrected_query = parse_query(suggestion)
        corrected = _rank(searcher, corrected_query)
        if corrected.ids:
            return TextMatch(
                suggestion,
                corrected.ids,
                corrected_query.units,
                suggestion,
                corrected_from=text,
                excluded=corrected_query.excluded,
                optional=corrected.optional,
                full_count=corrected.full_count,
            )
    return TextMatch(
        text,
        ranked.ids,
        query.units,
        suggestion,
        excluded=query.excluded,
        near_ids=ranked.near_ids,
        fewer_words=ranked.fewer_words,
        optional=ranked.optional,
        full_count=ranked.full_count,
    )


def _confident(typed: str, suggestion: str) -> bool:
    """Whether ``suggestion`` differs from ``typed`` only by one-letter slips in words of five
    letters or more: a typo fixed, not another word put in place of one the index lacks."""
    before, after = words(typed), words(suggestion)
    if len(before) != len(after):
        return False
    for old, new in zip(before, after, strict=True):
        if old != new and (len(old) < 5 or Levenshtein.distance(old, new) > 1):
            return False
    return True


def highlight(text: str, terms: frozenset[str], whole: bool = False) -> Markup:
    """``text`` escaped, with words matching ``terms`` wrapped in ``<mark>``.

    ``whole`` keeps the entire text (titles); otherwise the best fragments are kept (summaries).
    Neither the text nor the query can inject HTML: everything outside the marks is escaped.
    The marks are Whoosh's (``HtmlFormatter``; ``tests/test_search_highlight.py`` holds them to
    it): a whole text is marked here directly, fragments are left to Whoosh.
    """
    if not text:
        return Markup("")
    # with no word to mark, Whoosh finds no fragment and the text is escaped as it is
    spans = marked_spans(text, terms) if terms else []
    if spans and whole:
        return Markup(_mark_whole(text, spans))  # nosec B704  # escaped around and in the marks
    if spans:
        fragmenter = wh.ContextFragmenter(300, 80)
        # a formatter per call: it numbers the terms it has seen, and threads share this code
        formatter = wh.HtmlFormatter(tagname="mark", classname="hit", termclass="t", between=" … ")
        marked = wh.highlight(text, terms, highlight_analyzer, fragmenter, formatter, top=2)
        if marked:
            # Whoosh's HtmlFormatter escapes all the text around the marks (a test holds it)
            return Markup(marked)  # nosec B704
    return escape(text)


def _mark_whole(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each of ``spans`` in ``<mark class="hit tN">``, as Whoosh's
    ``HtmlFormatter`` marks one whole fragment: every piece escaped (``&``, ``<``, ``>``), N
    numbering the distinct words marked in order of appearance, modulo 5."""
    seen: dict[str, int] = {}
    parts = []
    index = 0
    for start, end in spans:
        if start > index:
            parts.append(html.escape(text[index:start], quote=False))
        word = html.escape(text[start:end], quote=False)
        number = seen.setdefault(word, len(seen) % 5)
        parts.append(f'<mark class="hit t{number}">{word}</mark>')
        index = end
    parts.append(html.escape(text[index:], quote=False))
    return "".join(parts)
