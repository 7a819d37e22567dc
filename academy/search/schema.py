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


@lru_cache(maxsize=65536)
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
    terms = [token.text for token in text_analyzer()(text)]
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
    return " ".join(token.text for token in text_analyzer()(text))


def course_document(course: Course) -> dict[str, str]:
    """The search document for ``course`` (its relationships must be loaded)."""
    taxonomy = [course.step.name]
    taxonomy += [term.name for term in (*course.sectors, *course.professions, *course.principles)]
    if course.delivery_mode:
        taxonomy.append(course.delivery_mode.name)
    if course.region:
        taxonomy.append(course.region.name)
    taxonomy += [module.programme.name for module in course.programme_modules]
    locations = [cohort.location for cohort in course.cohorts if cohort.location]
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
        "provider": course.provider.name,
        "taxonomy": " ; ".join(taxonomy),
        "body": "\n".join(part for part in body if part),
        # Suggestions come from the words learners see first: titles, summaries, names.
        "spell": " ".join([course.title, summary, course.provider.name, *taxonomy]),
        "pairs": " ".join(word_pairs(course.title) + word_pairs(summary)),
        "title_exact": exact_key(course.title),
        "published": course.published_at.isoformat() if course.published_at else "",
    }
