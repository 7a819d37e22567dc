"""Signing a credential as a VC-JWT (a compact JWS, RS256) and reading one back.

Open Badges 3.0 (section 8.2, VC-JWT proof format): the JOSE header names the algorithm and the
key (``kid``); the JWT payload is the credential itself with the registered claims ``iss``
(issuer id), ``jti`` (credential id), ``nbf`` (``validFrom``) and, when present, ``exp``
(``validUntil``) and ``sub`` (the subject's id) added.
"""

from __future__ import annotations

from datetime import datetime

import jwt

from academy.credentials import keys

ALGORITHM = "RS256"
JWT_CLAIMS = ("iss", "jti", "nbf", "exp", "sub", "iat")


def parse_datetime(value: str) -> datetime:
    """An ISO 8601 date-time with a time zone (``Z`` allowed). :raise ValueError: otherwise."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("a date-time without a time zone")
    return moment


def sign(credential: dict) -> tuple[str, str]:
    """``(compact JWS, kid)``: ``credential`` signed with the newest key (made if none)."""
    key = keys.current_key()
    claims = dict(credential)
    issuer = credential["issuer"]
    claims["iss"] = issuer["id"] if isinstance(issuer, dict) else issuer
    claims["jti"] = credential["id"]
    claims["nbf"] = int(parse_datetime(credential["validFrom"]).timestamp())
    if "validUntil" in credential:
        claims["exp"] = int(parse_datetime(credential["validUntil"]).timestamp())
    subject_id = (credential.get("credentialSubject") or {}).get("id")
    if subject_id:
        claims["sub"] = subject_id
    token = jwt.encode(
        claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "JWT"}
    )
    return token, key.kid


def credential_of(payload: dict) -> dict:
    """The credential inside a VC-JWT payload (the payload less the JWT claims)."""
    return {k: v for k, v in payload.items() if k not in JWT_CLAIMS}


def read_trusted(token: str, keyring: dict[str, keys.SigningKey] | None = None) -> dict:
    """The credential in a JWS this Academy signed and stored itself (signature checked with
    the key it names; ``keyring`` saves listing the keys again). :raise jwt.PyJWTError: not
    verifiable with our keys."""
    header = jwt.get_unverified_header(token)
    key = (keyring if keyring is not None else keys.keys_by_id()).get(header.get("kid", ""))
    if key is None:
        raise jwt.InvalidKeyError("unknown key")
    payload = jwt.decode(
        token, key.public_key, algorithms=[ALGORITHM], options={"verify_nbf": False}
    )
    return credential_of(payload)
