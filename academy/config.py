"""Configuration: defaults, then ``instance/config.py``, then the environment, then a test mapping.

Environment variables: ``DATABASE_URL``, ``SECRET_KEY`` and ``SEARCH_INDEX_DIR`` by their plain
names, and any other setting as ``ACADEMY_<NAME>`` (for example ``ACADEMY_COURSES_PER_PAGE=30``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PLAIN_ENV_NAMES = ("DATABASE_URL", "SECRET_KEY", "SEARCH_INDEX_DIR")


def defaults(instance_path: str) -> dict[str, Any]:
    """Return the settings every deployment starts from; nothing here touches the disk."""
    return {
        "DATABASE_URL": "sqlite:///" + os.path.join(instance_path, "academy.sqlite3"),
        "SEARCH_INDEX_DIR": os.path.join(instance_path, "search-index"),
        # portfolio evidence files, outside the web root, under random names
        "EVIDENCE_DIR": os.path.join(instance_path, "evidence"),
        "EVIDENCE_MAX_BYTES": 10 * 1024 * 1024,
        # the keys that sign Open Badges and CLR credentials
        "CREDENTIALS_KEY_DIR": os.path.join(instance_path, "credentials"),
        "SECRET_KEY": None,  # nosec B105  # no key: create_app makes one in instance/
        "SEED_DIR": str(Path(__file__).resolve().parent.parent / "seed"),
        "COURSES_PER_PAGE": 20,
        "DISPLAY_TIMEZONE": "Europe/London",
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    }


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Pick the settings this app reads from an environment mapping (values stay strings)."""
    found: dict[str, Any] = {name: environ[name] for name in PLAIN_ENV_NAMES if environ.get(name)}
    for key, value in environ.items():
        if key.startswith("ACADEMY_") and len(key) > len("ACADEMY_"):
            found[key.removeprefix("ACADEMY_")] = value
    return found


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the driver SQLAlchemy should use (psycopg 3 for PostgreSQL).

    Hosting platforms hand out ``postgres://`` and ``postgresql://`` URLs; both mean psycopg 3 here.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def load_or_create_secret_key(instance_path: str) -> str:
    """Return the key kept in ``instance/secret_key``, creating it (mode 0600) on first use.

    This is the one file the factory may write, and only when no ``SECRET_KEY`` was configured:
    it keeps sessions valid across restarts without a secret ever living in the repository.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
