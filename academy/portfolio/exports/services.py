"""The learner's exports of their own records: one dictionary (``build_export``) that the JSON
download and the "everything held about me" zip share, the CSV of entries, and the zip.

Every function takes the learner and reads only that learner's rows. Secrets are left out:
password hash, calendar-feed token, session and share-link tokens, the bodies of emails (they
can hold one-time links).
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date, datetime
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from academy.accounts.models import REGULATORS, AuthSession, ProviderMembership, User
from academy.catalogue.models import Cohort
from academy.credentials import openbadges
from academy.credentials.urls import absolute
from academy.db_types import utcnow
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.mail.models import OutboxMessage
from academy.portfolio import evidence_store
from academy.portfolio.common import entries_for
from academy.portfolio.models import (
    METHODS,
    THEMES,
    IssuedCredential,
    LearningRecordEntry,
    ShareLink,
)

FORMAT_VERSION = 1
#: entry columns left out of exports: they only repeat who the learner is
HIDDEN_COLUMNS = {"user_id"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _value(value):
    """A column value as JSON: dates and times in ISO 8601, everything else as it is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def entry_columns() -> list[str]:
    """Every column of an entry, in table order (so a new column is exported too)."""
    return [c.key for c in LearningRecordEntry.__table__.columns if c.key not in HIDDEN_COLUMNS]


def entry_record(entry: LearningRecordEntry, credential: IssuedCredential | None) -> dict:
    """Every field of ``entry``, with labels for coded values, its evidence files' metadata and
    its credential."""
    record = {key: _value(getattr(entry, key)) for key in entry_columns()}
    record["method_label"] = METHODS.get(entry.method, entry.method)
    record["theme_labels"] = [THEMES.get(t, t) for t in entry.themes or []]
    record["counts"] = entry.counts
    record["evidence"] = [
        {
            "id": e.id,
            "filename": e.filename,
            "content_type": e.content_type,
            "size": e.size,
            "sha256": e.sha256,
            "created_at": _value(e.created_at),
        }
        for e in entry.evidence
    ]
    record["credential"] = credential_record(credential) if credential else None
    return record


def credential_record(credential: IssuedCredential) -> dict:
    return {
        "public_id": credential.public_id,
        "entry_id": credential.entry_id,
        "issued_at": _value(credential.issued_at),
        "key_id": credential.key_id,
        "revoked_at": _value(credential.revoked_at),
        "revocation_reason": credential.revocation_reason,
        "verification_page": absolute("credentials.credential", public_id=credential.public_id),
        "signed": credential.signed,
    }


def profile_record(user: User) -> dict:
    memberships = db.session.scalars(
        select(ProviderMembership)
        .where(ProviderMembership.user_id == user.id)
        .options(selectinload(ProviderMembership.provider))
    ).all()
    return {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "email_confirmed_at": _value(user.email_confirmed_at),
        "created_at": _value(user.created_at),
        "password_changed_at": _value(user.password_changed_at),
        "employer": user.employer,
        "regulator": user.regulator,
        "regulator_label": REGULATORS.get(user.regulator, user.regulator),
        "sector": user.sector.name if user.sector else None,
        "profession": user.profession.name if user.profession else None,
        "region": user.region.name if user.region else None,
        "revalidation_on": _value(user.revalidation_on),
        "is_curator": user.is_curator,
        "provider_memberships": [
            {
                "provider": m.provider.name,
                "is_admin": m.is_admin,
                "since": _value(m.created_at),
            }
            for m in memberships
        ],
    }


def enrolment_records(user: User) -> list[dict]:
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.user_id == user.id)
        .options(
            selectinload(Enrolment.cohort).selectinload(Cohort.course),
            selectinload(Enrolment.cohort).selectinload(Cohort.sessions),
        )
        .order_by(Enrolment.created_at, Enrolment.id)
    ).all()
    records = []
    for e in enrolments:
        cohort = e.cohort
        records.append(
            {
                "id": e.id,
                "course": cohort.course.title,
                "cohort_id": cohort.id,
                "status": e.status,
                "online": cohort.is_online,
                "location": cohort.location,
                "sessions": [
                    {"starts_at": _value(s.starts_at), "ends_at": _value(s.ends_at)}
                    for s in cohort.sessions
                ],
                "access_needs": e.access_needs,
                "request_reason": e.request_reason,
                "withdrawal_reason": e.withdrawal_reason,
                "decision_message": e.decision_message,
                "created_at": _value(e.created_at),
                "queued_at": _value(e.queued_at),
                "enrolled_at": _value(e.enrolled_at),
                "attended_at": _value(e.attended_at),
                "completed_at": _value(e.completed_at),
                "withdrawn_at": _value(e.withdrawn_at),
            }
        )
    return records


def share_link_records(user: User) -> list[dict]:
    links = db.session.scalars(
        select(ShareLink)
        .where(ShareLink.user_id == user.id)
        .options(selectinload(ShareLink.entries))
        .order_by(ShareLink.created_at, ShareLink.id)
    ).all()
    return [
        {
            "id": link.id,
            "label": link.label,
            "created_at": _value(link.created_at),
            "expires_at": _value(link.expires_at),
            "revoked_at": _value(link.revoked_at),
            "entry_ids": [e.id for e in link.entries],
        }
        for link in links
    ]


def build_export(user: User) -> dict:
    """Everything the Academy holds about ``user``, as one JSON-ready dictionary: profile,
    every entry with every field and its evidence metadata, enrolments, credentials, share
    links (without tokens), sign-in sessions and the emails sent (subjects, not bodies).

    Runs a fixed number of queries whatever the number of rows.
    """
    entries = entries_for(user)
    credentials = openbadges.credentials_of(user)
    by_entry = {c.entry_id: c for c in credentials if c.entry_id is not None}
    sessions = db.session.scalars(
        select(AuthSession.created_at).where(AuthSession.user_id == user.id)
    ).all()
    mail = db.session.execute(
        select(
            OutboxMessage.kind,
            OutboxMessage.subject,
            OutboxMessage.created_at,
            OutboxMessage.sent_at,
        )
        .where(OutboxMessage.to_address == user.email)
        .order_by(OutboxMessage.created_at)
    ).all()
    return {
        "format": "relational-learning-academy-export",
        "format_version": FORMAT_VERSION,
        "exported_at": _value(utcnow()),
        "profile": profile_record(user),
        "entries": [entry_record(e, by_entry.get(e.id)) for e in entries],
        "enrolments": enrolment_records(user),
        "credentials": [credential_record(c) for c in credentials],
        "share_links": share_link_records(user),
        "sign_in_sessions": [{"created_at": _value(s)} for s in sessions],
        "emails": [
            {
                "kind": m.kind,
                "subject": m.subject,
                "created_at": _value(m.created_at),
                "sent_at": _value(m.sent_at),
            }
            for m in mail
        ],
    }


# --- CSV -------------------------------------------------------------------------------------


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula gets a ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = str(_value(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def entries_csv(user: User) -> str:
    """One row per entry with every field (UTF-8 with a byte-order mark, for Excel)."""
    entries = entries_for(user)
    credentials = {c.entry_id: c for c in openbadges.credentials_of(user) if c.entry_id is not None}
    columns = entry_columns()
    extra = ["method_label", "theme_labels", "evidence_files", "credential", "credential_status"]
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(columns + extra)
    for entry in entries:
        credential = credentials.get(entry.id)
        status = ""
        if credential is not None:
            status = "revoked" if credential.revoked_at else "issued"
        row = [getattr(entry, key) for key in columns] + [
            METHODS.get(entry.method, entry.method),
            [THEMES.get(t, t) for t in entry.themes or []],
            [e.filename for e in entry.evidence],
            credential.public_id if credential else "",
            status,
        ]
        writer.writerow([safe_cell(v) for v in row])
    return buffer.getvalue()


# --- the zip ---------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[^\w .()+-]+")


def display_names(names: list[str]) -> list[str]:
    """Safe, distinct file names in the order given: path parts and odd characters removed,
    and ``name (2).pdf`` for the second file called ``name.pdf``."""
    taken: set[str] = set()
    result = []
    for raw in names:
        name = _UNSAFE_NAME.sub("_", PurePosixPath(raw.replace("\\", "/")).name).strip(" .")
        name = name or "file"
        stem, dot, suffix = name.rpartition(".")
        if not dot or not stem:
            stem, suffix = name, ""
        candidate, number = name, 2
        while candidate.lower() in taken:
            candidate = f"{stem} ({number})" + (f".{suffix}" if suffix else "")
            number += 1
        taken.add(candidate.lower())
        result.append(candidate)
    return result


README = """Everything the Relational Learning Academy holds about you
==========================================================

Exported {exported_at} (UTC) for {name}.

data.json      Your profile, every portfolio entry with every field, your evidence files'
               details, enrolments, credentials (with their signed text), share links,
               sign-in sessions and the emails we sent you (subjects only).
evidence/      Every evidence file you uploaded, under the name you gave it{missing}.

Left out on purpose: your password (we only keep a one-way hash), the secret tokens behind
your calendar feed, sign-in sessions and share links, and the bodies of emails (they can hold
one-time links).

Evidence files
--------------
{files}
"""


def data_zip(user: User) -> bytes:
    """A zip of ``build_export(user)`` (``data.json``), every evidence file under its display
    name in ``evidence/``, and ``README.txt``. A file missing from disk is listed, not fatal."""
    export = build_export(user)
    evidence = [(entry, e) for entry in entries_for(user) for e in entry.evidence]
    names = display_names([e.filename for _, e in evidence])
    lines = []
    missing = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for (entry, item), name in zip(evidence, names, strict=True):
            path = evidence_store.path_for(item)
            if path.is_file():
                archive.write(path, f"evidence/{name}")
                lines.append(f"evidence/{name}  (entry {entry.id}: {entry.title})")
            else:
                missing += 1
                lines.append(f"MISSING {item.filename}  (entry {entry.id}: {entry.title})")
        archive.writestr("data.json", json.dumps(export, indent=2, ensure_ascii=False))
        archive.writestr(
            "README.txt",
            README.format(
                exported_at=export["exported_at"],
                name=user.name,
                missing=f" ({missing} could not be found on our server)" if missing else "",
                files="\n".join(lines) or "(none)",
            ),
        )
    return buffer.getvalue()
