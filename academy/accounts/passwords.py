"""Password hashing (Argon2id via argon2-cffi) and the password rules.

``common_passwords.txt`` holds the entries of at least 10 characters from the "passwords"
frequency list that the zxcvbn-python package (PyPI, MIT licence) ships; see its header.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 200

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; never raises for a wrong or malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Return why ``password`` is not acceptable, or ``None`` when it is."""
    if len(password) < MIN_LENGTH:
        return f"Your password must be at least {MIN_LENGTH} characters long."
    if len(password) > MAX_LENGTH:
        return f"Your password must be {MAX_LENGTH} characters or fewer."
    lowered = password.lower()
    if lowered in common_passwords():
        return "That password is too common: choose one that others are unlikely to use."
    if len(set(password)) < 3:
        return "Your password repeats too few characters: choose one that is harder to guess."
    if email and lowered == email.lower().strip() or name and lowered == name.lower().strip():
        return "Your password must not be your name or email address."
    return None
