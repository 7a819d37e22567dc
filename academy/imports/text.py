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


WINDOWS_1252_NOTICE = (
    "The file is not UTF-8, so it was read as Windows-1252, the encoding Excel on Windows uses"
    ' for "CSV (Comma delimited)". Check that accented letters, curly quotes and £ signs look'
    " right in the cells listed with this report, before anything is imported; if they do not,"
    ' save the file as "CSV UTF-8" and import it again.'
)


# Files people upload by mistake: PNG, JPEG, GIF, PDF, ZIP (so .xlsx, .docx), old Office (.xls).
_BINARY_SIGNATURES = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"%PDF",
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0",
)


def decode_csv(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)`` for an uploaded CSV file.

    UTF-8 (with or without a byte-order mark) is read as such; bytes that are not UTF-8 are
    read as Windows-1252, which is what Excel on Windows saves ("CSV (Comma delimited)"), and
    ``encoding`` says so, for the caller to tell the person. This is the one place that decodes
    uploads.

    :raise UndecodableFile: UTF-16, binary data (NUL bytes), or bytes neither encoding allows.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UndecodableFile(
            'The file is saved as UTF-16 ("Unicode text"). Save it as "CSV UTF-8" and import'
            " it again. Nothing was imported."
        )
    head = data[:65536]
    if head.startswith(_BINARY_SIGNATURES) or head.count(b"\x00") > max(8, len(head) // 100):
        raise UndecodableFile(
            "This is not a CSV file: it holds binary data, as an image, a PDF or an Excel"
            ' workbook (.xlsx) does. In your spreadsheet use Save As, "CSV UTF-8 (Comma'
            ' delimited)", and upload that file. Nothing was imported.'
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        utf8_error = error
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        line = data.count(b"\n", 0, utf8_error.start) + 1
        raise UndecodableFile(
            f"The file is not UTF-8 text: line {line} has the byte"
            f" 0x{data[utf8_error.start]:02X}, which UTF-8 does not allow (nor Windows-1252,"
            ' here). Save the file as "CSV UTF-8" (in Excel: Save As, "CSV UTF-8 (Comma'
            ' delimited)") and import it again. Nothing was imported.'
        ) from None


def decode_csv_bytes(data: bytes) -> str:
    """The text of an uploaded CSV file (see :func:`decode_csv`, which also names the
    encoding). :raise UndecodableFile: as ``decode_csv``."""
    return decode_csv(data)[0]


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
