"""Checking a credential someone hands us: signature, structure, dates and revocation.

``verify(text)`` accepts a compact JWS (a VC-JWT), or a CLR API response
(``{"compactJwsString": [...]}``) holding one, and answers with a ``Verdict``: ``valid``,
``revoked`` (with the reason and date) or ``invalid`` (with why). It never raises on input,
however odd.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import jwt

from academy.credentials import jws, keys
from academy.credentials.openbadges import VC_CONTEXT, find
from academy.credentials.urls import issuer_id
from academy.db_types import utcnow

COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
MAX_LENGTH = 2_000_000
KINDS = ("OpenBadgeCredential", "AchievementCredential", "ClrCredential")


@dataclass
class Verdict:
    status: str  # "valid", "revoked" or "invalid"
    reason: str = ""
    credential: dict | None = None
    kind: str = ""
    revoked_at: datetime | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.status == "valid"


def _invalid(reason: str, credential: dict | None = None) -> Verdict:
    return Verdict("invalid", reason, credential)


def extract_token(text: str) -> str:
    """The compact JWS in ``text``: the text itself, or the first ``compactJwsString`` of a CLR
    API response."""
    text = text.strip().lstrip("\ufeff")
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return ""
        strings = data.get("compactJwsString") if isinstance(data, dict) else None
        if isinstance(strings, list) and strings and isinstance(strings[0], str):
            return strings[0].strip()
        return ""
    return text


def verify(text: str) -> Verdict:
    """Verify a credential (see the module docstring)."""
    if len(text) > MAX_LENGTH:
        return _invalid("It is too long to be a credential from the Academy.")
    token = extract_token(text)
    if not COMPACT_JWS.match(token):
        return _invalid(
            "It is not a signed credential: a signed credential is three parts of letters, "
            "digits, '-' and '_' separated by dots."
        )
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return _invalid("Its header cannot be read, so it has been damaged or altered.")
    if header.get("alg") != jws.ALGORITHM:
        return _invalid("It is not signed with RS256, the algorithm the Academy uses.")
    key = keys.keys_by_id().get(str(header.get("kid", "")))
    if key is None:
        return _invalid("It was not signed with any of the Academy's keys.")
    try:
        payload = jwt.decode(
            token,
            key.public_key,
            algorithms=[jws.ALGORITHM],
            options={"require": ["iss", "jti", "nbf"]},
        )
    except jwt.ImmatureSignatureError:
        return _invalid("It is not valid yet (its validFrom is in the future).")
    except jwt.ExpiredSignatureError:
        return _invalid("It has expired (its validUntil has passed).")
    except jwt.MissingRequiredClaimError as error:
        return _invalid(f"It lacks the '{error.claim}' claim a VC-JWT must have.")
    except jwt.InvalidSignatureError:
        return _invalid("The signature does not match: the credential has been altered.")
    except jwt.PyJWTError:
        return _invalid("It cannot be read, so it has been damaged or altered.")
    if not isinstance(payload, dict):
        return _invalid("It does not hold a credential.")
    credential = jws.credential_of(payload)
    problem = structure_problem(credential, payload)
    if problem:
        return _invalid(problem, credential)
    kind = next(k for k in KINDS if k in credential["type"])
    if kind == "ClrCredential":
        return verify_clr(credential)
    return check_revocation(credential, kind)


def structure_problem(credential: dict, payload: dict) -> str:
    """Why ``credential`` is not a well-formed credential from this Academy ("" if it is)."""
    context = credential.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT:
        return "Its @context does not begin with the W3C Verifiable Credentials 2.0 context."
    types = credential.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        return "It is not typed as a VerifiableCredential."
    if not any(kind in types for kind in KINDS):
        return "It is neither an Open Badges credential nor a Comprehensive Learner Record."
    if not isinstance(credential.get("id"), str) or credential["id"] != payload.get("jti"):
        return "Its id is missing or does not match the signed 'jti' claim."
    issuer = credential.get("issuer")
    issuer_ref = issuer.get("id") if isinstance(issuer, dict) else issuer
    # The signature already proves it is ours; the host may differ behind a proxy, the path not.
    if (
        not isinstance(issuer_ref, str)
        or urlsplit(issuer_ref).path != urlsplit(issuer_id()).path
        or payload.get("iss") != issuer_ref
    ):
        return "Its issuer is not the Relational Learning Academy."
    try:
        valid_from = jws.parse_datetime(str(credential.get("validFrom", "")))
    except ValueError:
        return "Its validFrom is missing or is not a date and time with a time zone."
    if valid_from > utcnow():
        return "It is not valid yet (its validFrom is in the future)."
    if "validUntil" in credential:
        try:
            if jws.parse_datetime(str(credential["validUntil"])) <= utcnow():
                return "It has expired (its validUntil has passed)."
        except ValueError:
            return "Its validUntil is not a date and time with a time zone."
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        return "It has no credentialSubject."
    if "ClrCredential" in types:
        if "ClrSubject" not in (subject.get("type") or []):
            return "Its credentialSubject is not a ClrSubject."
    elif "AchievementSubject" not in (subject.get("type") or []) or not isinstance(
        subject.get("achievement"), dict
    ):
        return "Its credentialSubject is not an AchievementSubject with an achievement."
    return ""


def check_revocation(credential: dict, kind: str) -> Verdict:
    """Valid, or revoked with its reason and date, from the Academy's own record."""
    public_id = credential["id"].removeprefix("urn:uuid:")
    record = find(public_id)
    if record is None:
        return _invalid("The Academy has no record of issuing it.", credential)
    if record.revoked_at is not None:
        return Verdict(
            "revoked", record.revocation_reason, credential, kind, revoked_at=record.revoked_at
        )
    return Verdict("valid", "", credential, kind)


def verify_clr(credential: dict) -> Verdict:
    """A CLR is valid when its own signature and shape are; each badge inside it that has since
    been revoked is named in ``notes``."""
    notes = []
    for inner in credential["credentialSubject"].get("verifiableCredential") or []:
        if not isinstance(inner, dict) or not isinstance(inner.get("id"), str):
            continue
        record = find(inner["id"].removeprefix("urn:uuid:"))
        if record is not None and record.revoked_at is not None:
            notes.append(
                f"The credential for “{inner.get('name', 'an achievement')}” inside it has "
                f"since been revoked: {record.revocation_reason}"
            )
    return Verdict("valid", "", credential, "ClrCredential", notes=notes)
