"""Cleaning text that people type or upload, on the ground floor: one set of rules for forms,
CSV imports and URL parameters alike.

Every cleaner removes zero-width characters (U+200B-U+200D, U+2060, the byte-order mark U+FEFF)
and every control character except tab and newline (C0, DEL and C1): PostgreSQL refuses NUL in
text, so NUL never survives. Text is Unicode NFC with line endings as ``\\n``.
"""

from __future__ import annotations

import re
import unicodedata

#: what an email address must look like wherever one is typed or imported: something before one
#: ``@``, and a domain with a dot and a top-level part of two characters or more
EMAIL_ADDRESS = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


def clean_text(value: str) -> str:
    """Return ``value`` as NFC with ``\\n`` line endings, zero-width and control characters
    (other than newline and tab) removed, and surrounding whitespace stripped: for text areas."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", value)).strip()


def clean_line(value: str) -> str:
    """Return ``value`` cleaned as by :func:`clean_text`, with every run of whitespace (newlines
    included) made one space: for single-line fields such as names, titles and references."""
    return _WHITESPACE.sub(" ", clean_text(value))


def clean_parameter(value: str, limit: int) -> str:
    """Return a URL parameter cleaned as by :func:`clean_line` and cut to ``limit`` characters.

    Only for what a person never sees saved (a search box, a filter): typed text that will be
    stored is refused when too long, never cut. Safe in any query (no NUL).
    """
    return clean_line(value)[:limit]


def match_key(value: str) -> str:
    """Return a loose key for matching names and slugs typed by people.

    Case, accents, punctuation, spacing, apostrophes, ``&`` and the word "and" are ignored, so
    "Health and Social Care", "health-social-care" and "Health & social care" share one key.
    """
    text = unicodedata.normalize("NFKD", clean_line(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " and ").replace("'", "").replace("\u2019", "")
    return " ".join(word for word in _NOT_ALPHANUMERIC.split(text) if word and word != "and")


def header_key(value: str) -> str:
    """Return the canonical spelling of a column heading: "Who it's for " -> ``who_its_for``."""
    text = clean_line(value).casefold().replace("'", "").replace("\u2019", "")
    return _NOT_ALPHANUMERIC.sub("_", text).strip("_")
