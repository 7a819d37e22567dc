"""Evidence files on an entry: what is accepted, how it is stored, and how it goes away.

A file is judged by its bytes, never by its name or the browser's content type: it must start
like a PDF, PNG or JPEG; an image must open with Pillow; a PDF must parse with pypdf and hold
nothing that runs (script, launch actions, automatic actions, embedded files). Anything else is
refused with :class:`EvidenceRefused`, whose message is written for the learner.

Storing writes the file first (under a random name, see ``evidence_store``) and then adds the
row (flushed); the request's one commit keeps both, and a rollback or a failed commit removes
the file again, so a row never points at a missing file and a failed upload leaves nothing
behind. Deleting removes the row (flushed) and the file only once that is committed.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from flask import abort, current_app
from sqlalchemy import func, select

from academy.accounts.models import User
from academy.extensions import db
from academy.portfolio import evidence_store
from academy.portfolio.models import EvidenceFile, LearningRecordEntry
from academy.unit_of_work import DomainError

MAX_FILES_PER_ENTRY = 10
MAX_FILENAME_LENGTH = 200
#: the most PDF objects checked before a file is refused as too complex (a certificate has a
#: few dozen; a 300-page report a few thousand)
MAX_PDF_OBJECTS = 10_000

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
EXTENSIONS = {PDF: (".pdf",), PNG: (".png",), JPEG: (".jpg", ".jpeg")}
_SIGNATURES = ((b"%PDF-", PDF), (b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG))

#: PDF names that mean something in the file can run or carry another file: script, launch
#: and automatic actions, embedded files, rich media and XFA forms (which carry script)
_ACTIVE_PDF_NAMES = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/AA",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/EF",
        "/RichMedia",
        "/XFA",
        "/SubmitForm",
        "/ImportData",
    }
)
_UNSAFE_NAME_CHARACTERS = re.compile(r"[\x00-\x1f\x7f<>:\"/\\|?*]")


class EvidenceRefused(DomainError):
    """The upload is not accepted; ``message`` says why, in words for the learner."""


@dataclass(frozen=True)
class CheckedFile:
    data: bytes
    content_type: str


def max_bytes() -> int:
    return int(current_app.config["EVIDENCE_MAX_BYTES"])


def describe_limit() -> str:
    """``10 MB``: the size limit as the learner reads it."""
    return f"{max_bytes() / (1024 * 1024):g} MB"


def read_upload(stream: BinaryIO) -> bytes:
    """At most ``EVIDENCE_MAX_BYTES + 1`` bytes of ``stream``: enough to tell it is too large
    without reading more of a large file into memory."""
    return stream.read(max_bytes() + 1)


def check_file(data: bytes) -> CheckedFile:
    """The file's real content type when it is acceptable evidence.

    :raise EvidenceRefused: empty, too large, not a PDF/PNG/JPEG by its content, an image that
        does not open, a PDF that does not parse or that holds something that can run.
    """
    if not data:
        raise EvidenceRefused("The file is empty. Choose the file again.")
    if len(data) > max_bytes():
        raise EvidenceRefused(f"The file is too large: upload at most {describe_limit()}.")
    content_type = next((kind for magic, kind in _SIGNATURES if data.startswith(magic)), None)
    if content_type is None:
        raise EvidenceRefused(
            "The file must be a PDF, PNG or JPEG. This one is not, whatever its name says."
        )
    if content_type == PDF:
        _check_pdf(data)
    else:
        _check_image(data, "PNG" if content_type == PNG else "JPEG")
    return CheckedFile(data, content_type)


def _check_image(data: bytes, expected_format: str) -> None:
    from PIL import Image

    refused = EvidenceRefused(
        f"The file looks like a {expected_format} image but does not open as one. Save it again"
        " and upload the new copy."
    )
    # A decompression bomb is only a warning in Pillow at the first threshold: refuse it too.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format != expected_format:
                    raise refused
                image.verify()
        except EvidenceRefused:
            raise
        except Exception as error:  # Pillow raises many kinds for a broken file
            raise refused from error


def _check_pdf(data: bytes) -> None:
    from pypdf import PdfReader

    unreadable = EvidenceRefused(
        "The file starts like a PDF but is not one we can read. Save it as a PDF again (for"
        " example with Print → Save as PDF) and upload the new copy."
    )
    try:
        # pypdf warns about damage it can work round; whether the file is refused depends only
        # on whether it parses and what it holds.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise EvidenceRefused(
                    "The PDF is protected with a password. Save a copy without the password and"
                    " upload that."
                )
            if _listed_objects(reader) > MAX_PDF_OBJECTS:
                raise _too_complex()
            reader.trailer["/Root"].get_object()["/Pages"]  # a document, with pages
            active = _active_content(reader)
    except EvidenceRefused:
        raise
    except Exception as error:  # pypdf raises many kinds (and RecursionError) for a bad file
        raise unreadable from error
    if active:
        raise EvidenceRefused(
            "The PDF contains script, automatic actions or embedded files, which we do not"
            " accept. Print it to a new PDF (Print → Save as PDF) and upload that copy."
        )


def _too_complex() -> EvidenceRefused:
    return EvidenceRefused(
        "The PDF has too many parts for us to check. Upload a shorter extract, or print the"
        " pages you need to a new PDF."
    )


def _listed_objects(reader) -> int:
    """How many objects the file's cross-reference lists (tables and streams): a cheap first
    bound before any object is read."""
    return sum(len(table) for table in reader.xref.values()) + len(reader.xref_objStm)


def _active_content(reader) -> bool:
    """Whether any object reachable from the trailer names script, an action that runs on its
    own, or an embedded file. Walks the object graph without recursion, each object once.

    Reading every object is what makes the check sound (and proves the file parses), but it
    costs time per object, so a file of more than ``MAX_PDF_OBJECTS`` is refused rather than
    read: that bounds the work a 10 MB upload can ask for (see ``docs/benchmarks.md``).

    :raise EvidenceRefused: too many objects to check.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    stack: list = [reader.trailer]
    seen: set[tuple[int, int]] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            if len(seen) > MAX_PDF_OBJECTS:
                raise _too_complex()
            item = item.get_object()
        if isinstance(item, NameObject):
            if str(item) in _ACTIVE_PDF_NAMES:
                return True
        elif isinstance(item, DictionaryObject):  # streams are dictionaries too
            for name, value in item.items():
                if str(name) in _ACTIVE_PDF_NAMES:
                    return True
                stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return False


def clean_filename(raw: str | None, content_type: str) -> str:
    """The name to show and offer on download: no folders, no control or reserved characters,
    at most 200 characters, ending in an extension that matches the content."""
    # lone surrogates (from odd encodings of the name) cannot be stored: drop them
    name = (raw or "").encode("utf-8", "ignore").decode("utf-8")
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE_NAME_CHARACTERS.sub("", name).strip().lstrip(".").strip()
    extensions = EXTENSIONS[content_type]
    if not name.lower().endswith(extensions):
        name = (name or "evidence") + extensions[0]
    if len(name) > MAX_FILENAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        name = stem[: MAX_FILENAME_LENGTH - len(extension) - 1].rstrip() + dot + extension
    return name


def count_for(entry: LearningRecordEntry) -> int:
    return db.session.scalar(
        select(func.count(EvidenceFile.id)).where(EvidenceFile.entry_id == entry.id)
    )


def add_evidence(
    user: User, entry: LearningRecordEntry, data: bytes, filename: str | None
) -> EvidenceFile:
    """Check ``data``, write it under a new random name and add its row (flushed, not committed).

    The entry's row is locked first (on PostgreSQL) so that two uploads at once cannot pass the
    ten-file limit together. The file is removed again if the flush fails, or if the
    transaction is rolled back or its commit fails (``evidence_store.remove_unless_committed``).

    :raise EvidenceRefused: the entry has its ten files, or the file is not acceptable.
    """
    if entry.user_id != user.id:
        abort(404)
    db.session.execute(
        select(LearningRecordEntry.id).where(LearningRecordEntry.id == entry.id).with_for_update()
    )
    if count_for(entry) >= MAX_FILES_PER_ENTRY:
        raise EvidenceRefused(
            f"An entry can have at most {MAX_FILES_PER_ENTRY} files. Delete one to add another."
        )
    checked = check_file(data)
    evidence = EvidenceFile(
        entry_id=entry.id,
        user_id=user.id,
        stored_name=evidence_store.new_stored_name(),
        filename=clean_filename(filename, checked.content_type),
        content_type=checked.content_type,
        size=len(checked.data),
        sha256=hashlib.sha256(checked.data).hexdigest(),
    )
    _write_new(evidence, checked.data)
    evidence_store.remove_unless_committed(evidence)
    try:
        db.session.add(evidence)
        db.session.flush()
    except Exception:
        evidence_store.remove_file(evidence)
        raise
    return evidence


def _write_new(evidence: EvidenceFile, data: bytes) -> None:
    path = evidence_store.path_for(evidence)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def get_own_evidence(user: User, evidence_id: int) -> EvidenceFile:
    """The learner's evidence file ``evidence_id``, or a 404 (also for someone else's)."""
    evidence = db.session.scalar(
        select(EvidenceFile)
        .join(LearningRecordEntry, LearningRecordEntry.id == EvidenceFile.entry_id)
        .where(
            EvidenceFile.id == evidence_id,
            EvidenceFile.user_id == user.id,
            LearningRecordEntry.user_id == user.id,
        )
    )
    if evidence is None:
        abort(404)
    return evidence


def delete_evidence(user: User, evidence: EvidenceFile) -> list[str]:
    """Delete the row (flushed) and return its stored name; the file goes once the deletion is
    committed."""
    if evidence.user_id != user.id:
        abort(404)
    stored_names = [evidence.stored_name]
    db.session.delete(evidence)
    db.session.flush()
    evidence_store.remove_after_commit(stored_names)
    return stored_names


def discard_files(stored_names: list[str]) -> None:
    """Remove these stored files (after the deletion of their rows is committed, or after the
    commit that would have added them failed). Missing files are no error.

    Callers take the names before committing: a deleted row's attributes are not to be trusted
    once its session has moved on.
    """
    folder = evidence_store.evidence_dir()
    for name in stored_names:
        (folder / name).unlink(missing_ok=True)
