"""CSV import benchmark: a provider uploads a 10,000-row file through the web screen, reads the
report and confirms. Prints the time of each step. Usage (``DATABASE_URL`` selects the database,
default a temporary SQLite file):

    .venv/bin/python bench/import_bench.py [--rows 10000] [--runs 3] [--searchable]

With ``--searchable`` it then times what makes the import public: a curator's bulk approval of
every imported course (``curation.bulk_decide``, as ``flask curation approve``) and the search
follower's ``sync()`` applying all of them to the index (built before the approval, as a running
follower has it), and prints the time from the approval's commit to the last one searchable.
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


def searchable_after_approval(provider: Provider, count: int) -> tuple[float, float, int]:
    """Approve every waiting course of ``provider`` as a curator and sync the index: the seconds
    the approval took to commit, the seconds from its commit until ``sync()`` has indexed them,
    and how many documents it indexed."""
    from academy.curation.services import QueueFilter, bulk_decide
    from academy.search import get_store, indexer

    store = get_store()
    indexer.sync(store, db.engine)  # the follower is up to date before the approval
    curator = User(email="curator@example.org", name="Curator", is_curator=True,
                   password_hash=hash_password("benchmark password"),
                   calendar_token=secrets.token_urlsafe(24),
                   email_confirmed_at=utcnow())  # fmt: skip
    db.session.add(curator)
    db.session.commit()
    started = time.perf_counter()
    bulk_decide(curator, "approve", None, QueueFilter(provider_id=provider.id))
    db.session.commit()
    committed = time.perf_counter()
    report = indexer.sync(store, db.engine)
    indexed = time.perf_counter()
    searcher = store.searcher()
    assert searcher is not None and searcher.doc_count() == count, "not every course is indexed"
    store.close()
    return committed - started, indexed - committed, report.indexed


def run_once(count: int, database_url: str, searchable: bool = False) -> tuple[float, ...]:
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
            approval = searchable_after_approval(provider, count) if searchable else ()
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
        return (checked - started, done - checked, *approval)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--searchable", action="store_true",
                        help="then approve it and time until sync() has indexed it")  # fmt: skip
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    print(f"# {args.rows:,} rows, database {database_url.split('@')[-1] or 'SQLite (temporary)'}")
    for run in range(1, args.runs + 1):
        check, write, *approval = run_once(args.rows, database_url, args.searchable)
        line = f"run {run}: check {check:.2f} s, confirm {write:.2f} s, total {check + write:.2f} s"
        if approval:
            approve, index, indexed = approval
            line += (f"; approval {approve:.2f} s, then searchable after {index:.2f} s "
                     f"({indexed / index:,.0f} courses/s)")  # fmt: skip
        print(line, flush=True)


if __name__ == "__main__":
    main()
