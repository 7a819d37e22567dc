"""Turning uploaded bytes into text; the cell cleaners and loose matching come from academy.text."""

from __future__ import annotations

from academy.text import clean_line, clean_text, header_key, match_key


class UndecodableFile(ValueError):
    """The uploaded bytes are not text this importer can read; the message says what to do."""


# The cleaners live on the ground floor (one set of rules for forms, imports and URLs); they are
# named here too because the import core has always imported them from this module.
__all__ = [
    "UndecodableFile",
    "WINDOWS_1252_NOTICE",
    "clean_line",
    "clean_text",
    "decode_csv",
    "decode_csv_bytes",
    "header_key",
    "match_key",
]


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
