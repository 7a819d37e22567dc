"""CSV import benchmark: a provider uploads a 10,000-row file through the web screen, reads the
report and confirms. Prints the time of each step. Usage (``DATABASE_URL`` selects the database,
default a temporary SQLite file):

    .venv/bin/python bench/import_bench.py [--rows 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from itsdangerous import URLSafeTimedSerializer  # noqa: E402

from academy import create_app  # noqa: E402
from academy.accounts.models import ProviderMembership, User  # noqa: E402
from academy.accounts.passwords import hash_password  # noqa: E402
from academy.accounts.security import start_session  # noqa: E402
from academy.db_types import utcnow  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.providers.models import Provider  # noqa: E402
from academy.seeding import seed_taxonomy  # noqa: E402
from tests.test_provider_import import confirm, course_count, rows, upload  # noqa: E402


def run_once(count: int, database_url: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "DATABASE_URL": database_url or f"sqlite:///{tmp}/bench.sqlite3",
            "SECRET_KEY": "bench", "SEARCH_INDEX_DIR": f"{tmp}/index", "SEARCH_SYNC": "off",
            "MAIL_FILE_DIR": f"{tmp}/mail",
        })  # fmt: skip
        with app.app_context():
            db.drop_all()
            db.create_all()
            seed_taxonomy(ROOT / "seed")
            provider = Provider(slug="bench-provider", name="Bench provider", verified_at=utcnow())
            user = User(email="staff@example.org", name="Staff", password_hash=hash_password(
                "benchmark password"), calendar_token=secrets.token_urlsafe(24),
                email_confirmed_at=utcnow())  # fmt: skip
            user.memberships.append(ProviderMembership(provider=provider, is_admin=True))
            db.session.add_all([provider, user])
            db.session.commit()
            token = start_session(user)
            db.session.commit()
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = token
                session["_fresh"] = True
                raw = session.setdefault("csrf_token", secrets.token_hex(20))
            signed = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)
            data = rows(count)
            started = time.perf_counter()
            page = upload(client, lambda _c: signed, provider, data).get_data(as_text=True)
            checked = time.perf_counter()
            confirm(client, lambda _c: signed, provider, page)
            done = time.perf_counter()
            assert course_count() == count, "the import did not write every row"
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
        return checked - started, done - checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    print(f"# {args.rows:,} rows, database {database_url.split('@')[-1] or 'SQLite (temporary)'}")
    for run in range(1, args.runs + 1):
        check, write = run_once(args.rows, database_url)
        print(f"run {run}: check {check:.2f} s, confirm {write:.2f} s, total {check + write:.2f} s",
              flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
