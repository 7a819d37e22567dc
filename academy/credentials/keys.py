"""The RSA keys that sign credentials, kept as PEM files under ``CREDENTIALS_KEY_DIR``.

Each key lives in ``<number>-<kid>.pem`` (mode 0600; the folder 0700), where ``number`` orders
the keys (the highest is the newest) and ``kid`` is the RFC 7638 JWK thumbprint of its public
half. New credentials are signed with the newest key; every key stays in the JWKS, so a
credential signed before a rotation still verifies. A key is made on first use, never when
the application starts, and private keys never leave this folder (``instance/`` is ignored by
git).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app

KEY_FILE = re.compile(r"^(\d{6})-([A-Za-z0-9_-]{43})\.pem$")
KEY_BITS = 2048


@dataclass(frozen=True)
class SigningKey:
    number: int
    kid: str
    private_key: rsa.RSAPrivateKey

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()


def key_dir() -> Path:
    return Path(current_app.config["CREDENTIALS_KEY_DIR"])


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_jwk(public_key: rsa.RSAPublicKey, kid: str | None = None) -> dict:
    """The public key as a JWK (RS256, for signatures), with ``kid`` if given."""
    numbers = public_key.public_numbers()
    jwk = {"kty": "RSA", "n": _b64(numbers.n), "e": _b64(numbers.e)}
    if kid:
        jwk.update(kid=kid, use="sig", alg="RS256")
    return jwk


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url): required members, sorted, no spaces."""
    jwk = public_jwk(public_key)
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


#: parsed keys by file path: a key file never changes once written, so each is read only once
_parsed: dict[Path, SigningKey] = {}


def load_keys() -> list[SigningKey]:
    """Every key in the folder, oldest first (an absent folder holds none).

    The folder is listed on every call, so a key added by another process (a rotation) is seen
    at once; only files not seen before are read and parsed.
    """
    folder = key_dir()
    if not folder.is_dir():
        return []
    keys = []
    for path in folder.iterdir():
        match = KEY_FILE.match(path.name)
        if not match:
            continue
        if path not in _parsed:
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(private, rsa.RSAPrivateKey):
                continue
            _parsed[path] = SigningKey(int(match.group(1)), match.group(2), private)
        keys.append(_parsed[path])
    return sorted(keys, key=lambda key: key.number)


def keys_by_id() -> dict[str, SigningKey]:
    return {key.kid: key for key in load_keys()}


def generate_key() -> SigningKey:
    """Make a new key, newer than every existing one, and write it with mode 0600.

    Two processes racing here each write their own file under a different number (the file is
    created exclusively), so neither overwrites the other.
    """
    folder = key_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    kid = thumbprint(private.public_key())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    existing = load_keys()
    number = existing[-1].number + 1 if existing else 1
    while True:
        path = folder / f"{number:06d}-{kid}.pem"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            number += 1
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return SigningKey(number, kid, private)


def current_key() -> SigningKey:
    """The newest key, made on first use."""
    keys = load_keys()
    return keys[-1] if keys else generate_key()


def jwks() -> dict:
    """The public half of every key, newest first, as a JSON Web Key Set."""
    return {"keys": [public_jwk(k.public_key, k.kid) for k in reversed(load_keys())]}
