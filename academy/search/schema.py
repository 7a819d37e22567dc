"""The Whoosh schema, its analysers, and how a course becomes a search document."""

from __future__ import annotations

import re
from functools import cache, lru_cache

from whoosh.analysis import (
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
)
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

from academy.catalogue.models import Course
from academy.search.bulk import terms_key

# Words: letters and digits, so punctuation, emoji and control characters never become terms.
TOKEN_PATTERN = r"\w+"  # nosec B105  # a regular expression, not a password
_TOKEN = re.compile(TOKEN_PATTERN)


@cache
def plain_analyzer():
    """Lower-cased, accent-folded words, no stemming: used for spelling and synonym matching.

    Analysers are built once and shared: each call makes its own tokens, so threads may share.
    """
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | CharsetFilter(accent_map)


@cache
def text_analyzer():
    """Words lower-cased, accent-folded, stop words dropped and English-stemmed."""
    return plain_analyzer() | StopFilter() | StemFilter()


@cache
def _filters():
    """The filters of ``text_analyzer`` after its tokenizer, by kind."""
    chain = text_analyzer()
    by_kind = {type(item).__name__: item for item in chain.items}
    return by_kind["CharsetFilter"], by_kind["StopFilter"], by_kind["StemFilter"]


@lru_cache(maxsize=262144)
def _word_form(word: str) -> tuple[str, bool]:
    """What ``text_analyzer`` makes of one word: its text and whether it is a stop word."""
    charset, stop, stem = _filters()
    text = word.lower().translate(charset.charmap)
    stopped = (
        not (len(text) >= stop.min and (stop.max is None or len(text) <= stop.max))
        or text in stop.stops
    )
    if not stopped and text not in stem.ignore:
        text = stem._stem(text)
    return text, stopped


def highlight_analyzer(value: str, chars: bool = False, mode: str = "", **_options):
    """The tokens ``text_analyzer`` yields with ``removestops=False`` (stop words kept and
    marked), made with one regular expression pass and a cache per word instead of a chain of
    generators: highlighting every result's title and summary no longer re-runs the stemmer.
    ``tests/test_search_highlight.py`` checks it against ``text_analyzer`` token by token."""
    for match in _TOKEN.finditer(value):
        text, stopped = _word_form(match.group())
        token = Token(chars=chars, removestops=False, mode=mode)
        token.text, token.stopped = text, stopped
        token.startchar, token.endchar = match.start(), match.end()
        yield token


def marked_spans(value: str, terms: frozenset[str], limit: int = 32768) -> list[tuple[int, int]]:
    """Where in ``value`` the tokens ``highlight_analyzer`` makes have their text in ``terms``
    (stop words included, as the highlighter marks them), in order, up to the first token ending
    past ``limit`` characters (Whoosh's ``WholeFragmenter`` stops there)."""
    spans = []
    for match in _TOKEN.finditer(value):
        if match.end() > limit:
            break
        if _word_form(match.group())[0] in terms:
            spans.append(match.span())
    return spans


# Raise when the schema or the documents change: an index built with another version rebuilds.
SCHEMA_VERSION = 3

#: a course with no summary is summarised by the start of its description, this long at most
SUMMARY_FALLBACK_CHARS = 300

# field name -> boost; title above summary above the rest
TEXT_FIELDS = {"title": 4.0, "summary": 2.0, "provider": 1.5, "taxonomy": 1.2, "body": 1.0}


def make_schema() -> Schema:
    analyzer = text_analyzer()
    return Schema(
        id=ID(stored=True, unique=True, sortable=True),
        title=TEXT(analyzer=analyzer, stored=True, field_boost=TEXT_FIELDS["title"]),
        summary=TEXT(analyzer=analyzer, stored=True, field_boost=TEXT_FIELDS["summary"]),
        provider=TEXT(analyzer=analyzer, field_boost=TEXT_FIELDS["provider"]),
        taxonomy=TEXT(analyzer=analyzer, field_boost=TEXT_FIELDS["taxonomy"]),
        body=TEXT(analyzer=analyzer, field_boost=TEXT_FIELDS["body"]),
        # the words as written (accent-folded, not stemmed) of the title, summary, provider and
        # taxonomy: spelling suggestions, and the exact forms a search ranks above stemmed ones
        spell=TEXT(analyzer=plain_analyzer(), phrase=False),
        # each pair of neighbouring indexed words of the title and of the summary, as one term
        # ("machin_learn"): words next to each other in the query rank higher when next to each
        # other there, at the cost of a term lookup rather than a phrase search
        pairs=TEXT(analyzer=pair_analyzer(), phrase=False),
        # the whole title as one term of its indexed words, to find exact-title matches cheaply
        title_exact=ID(),
        published=STORED(),
    )


@cache
def pair_analyzer():
    """Splits the ``pairs`` field on spaces: its terms are made by ``word_pairs``."""
    return RegexTokenizer(r"\S+")


def word_pairs(text: str) -> list[str]:
    """Each pair of neighbouring indexed words of ``text`` (stop words dropped), as one term."""
    terms = index_terms(text)
    return [pair_key(a, b) for a, b in zip(terms, terms[1:], strict=False)]


def pair_key(first: str, second: str) -> str:
    """The ``pairs`` term for two indexed words next to each other."""
    return f"{first}_{second}"


def summary_text(summary: str, description: str) -> str:
    """What the summary field holds: the summary, or when there is none, the description's
    first sentences (catalogues imported without summaries still have one to rank on)."""
    if summary.strip():
        return summary
    start = description.strip()[:SUMMARY_FALLBACK_CHARS]
    return start.rsplit(" ", 1)[0] if len(description.strip()) > SUMMARY_FALLBACK_CHARS else start


def exact_key(text: str) -> str:
    """The indexed words of ``text`` joined by spaces (two texts with equal keys read alike)."""
    return " ".join(index_terms(text))


def course_document(course: Course) -> dict[str, str]:
    """The search document for ``course`` (its relationships must be loaded)."""
    taxonomy = [course.step.name]
    taxonomy += [term.name for term in (*course.sectors, *course.professions, *course.principles)]
    if course.delivery_mode:
        taxonomy.append(course.delivery_mode.name)
    if course.region:
        taxonomy.append(course.region.name)
    modules = sorted(course.programme_modules, key=lambda module: module.programme_id)
    taxonomy += [module.programme.name for module in modules]
    locations = [cohort.location for cohort in course.cohorts if cohort.location]
    return build_document(course, course.provider.name, taxonomy, locations)


def build_document(course, provider: str, taxonomy: list[str], locations: list[str]) -> dict:
    """The search document of a course given as anything with its columns as attributes (a
    model or a plain row): ``id``, ``title``, ``summary``, ``description``, ``who_its_for``,
    ``entry_requirements``, ``where_next``, ``reference``, ``credit_level``, ``published_at``;
    ``taxonomy`` is its step, sectors, professions, principles, delivery mode, region and
    programmes' names in that order, ``locations`` its cohorts' places in cohort order."""
    body = [
        course.description,
        course.who_its_for,
        course.entry_requirements,
        course.where_next,
        course.reference,
        course.credit_level or "",
        *locations,
    ]
    summary = summary_text(course.summary, course.description)
    return {
        "id": str(course.id),
        "title": course.title,
        "summary": summary,
        "provider": provider,
        "taxonomy": " ; ".join(taxonomy),
        "body": "\n".join(part for part in body if part),
        # Suggestions come from the words learners see first: titles, summaries, names.
        "spell": " ".join([course.title, summary, provider, *taxonomy]),
        "pairs": " ".join(word_pairs(course.title) + word_pairs(summary)),
        "title_exact": exact_key(course.title),
        "published": course.published_at.isoformat() if course.published_at else "",
    }


#: the fields of a document analysed by ``text_analyzer``
_TEXT_ANALYSED = ("title", "summary", "provider", "taxonomy", "body")


def index_terms(text: str) -> list[str]:
    """The terms ``text_analyzer`` indexes for ``text``, in order, stop words dropped: one
    regular expression pass and the per-word cache instead of the analyser's generator chain
    (``tests/test_search_documents.py`` holds the two equal)."""
    return _terms_and_start(text)[0]


def _terms_and_start(text: str) -> tuple[list[str], int]:
    """``index_terms(text)`` and the position ``text_analyzer`` gives the first of them (the
    number of stop words before it: its stop filter renumbers only the words after it)."""
    terms: list[str] = []
    start = 0
    for word in _TOKEN.findall(text):
        term, stopped = _word_form(word)
        if not stopped:
            terms.append(term)
        elif not terms:
            start += 1
    return terms, start


@lru_cache(maxsize=262144)
def _plain_form(word: str) -> str:
    """What ``plain_analyzer`` makes of one word."""
    charset = _filters()[0]
    return word.lower().translate(charset.charmap)


def plain_terms(text: str) -> list[str]:
    """The terms ``plain_analyzer`` yields for ``text``, in order."""
    return [_plain_form(word) for word in _TOKEN.findall(text)]


def writer_fields(document: dict[str, str]) -> dict:
    """``document`` as keyword arguments for a Whoosh writer, its text fields already analysed.

    Whoosh indexes a list of strings as those terms at positions 0, 1, 2…, exactly what the
    field's analyser yields for the text (stop words dropped and the rest renumbered) unless the
    text starts with stop words (then the first term keeps its position, and the text is left for
    Whoosh to analyse; the terms and that position are given beside it under ``terms_key``, for
    ``bulk.BulkSegmentWriter``), so the postings, frequencies, positions and field lengths are the
    same as for the text; the stored fields keep the text. Analysing once per word (cached)
    instead of once per token through a chain of generators is most of the indexing time saved."""
    fields: dict = dict(document)
    for name in _TEXT_ANALYSED:
        terms, start = _terms_and_start(document[name])
        if start == 0:  # a list is indexed from position 0; else Whoosh analyses the text
            fields[name] = terms
        else:  # and a BulkSegmentWriter takes the terms from their first position
            fields[terms_key(name)] = (terms, start)
    fields["_stored_title"] = document["title"]
    fields["_stored_summary"] = document["summary"]
    fields["spell"] = plain_terms(document["spell"])
    fields["pairs"] = document["pairs"].split()
    return fields
