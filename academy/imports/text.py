"""Turning uploaded bytes and spreadsheet cells into clean text, and matching loose spellings."""

from __future__ import annotations

import re
import unicodedata


class UndecodableFile(ValueError):
    """The uploaded bytes are not text this importer can read; the message says what to do."""


# Zero-width characters (U+200B-U+200D, U+2060 and the byte-order mark U+FEFF) and every control
# character except tab and newline (C0, DEL and C1). PostgreSQL refuses NUL in text, so NUL must
# never survive cleaning.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


def decode_csv_bytes(data: bytes) -> str:
    """Return the text of an uploaded CSV file, which must be UTF-8 (a byte-order mark is dropped).

    This is the one place that decodes uploads, so another encoding can be accepted here later.

    :raise UndecodableFile: when the bytes are not UTF-8; the message names the line.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UndecodableFile(
            'The file is saved as UTF-16 ("Unicode text"). Save it as "CSV UTF-8" and import'
            " it again. Nothing was imported."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UndecodableFile(
            f"The file is not UTF-8 text: line {line} has the byte 0x{data[error.start]:02X},"
            ' which UTF-8 does not allow. Save the file as "CSV UTF-8" (in Excel: Save As,'
            ' "CSV UTF-8 (Comma delimited)") and import it again. Nothing was imported.'
        ) from None


def clean_text(value: str) -> str:
    """Return ``value`` as Unicode NFC with line endings as ``\\n``, zero-width and control
    characters (other than newline and tab) removed, and surrounding whitespace stripped."""
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", value)).strip()


def clean_line(value: str) -> str:
    """Return ``value`` cleaned as by :func:`clean_text`, with every run of whitespace (newlines
    included) made one space: for single-line fields such as titles and references."""
    return _WHITESPACE.sub(" ", clean_text(value))


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
