"""PDF export benchmark: the printable summary of a portfolio of 200 entries (with reflections),
through the learner's download route. Prints each run's time and the median; the target is under
1.5 s. Usage (``DATABASE_URL`` selects the database, default a temporary SQLite file):

    .venv/bin/python bench/pdf_bench.py [--entries 200] [--runs 5]
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from academy import create_app  # noqa: E402
from academy.accounts.models import User  # noqa: E402
from academy.accounts.security import start_session  # noqa: E402
from academy.db_types import utcnow  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.portfolio.models import METHODS, THEMES, LearningRecordEntry  # noqa: E402

TITLES = (
    "Working with Personality Disorder: Raising Awareness",
    "Mentalization-Based Treatment Basic",
    "Trauma-informed practice in homelessness services",
    "Open Dialogue foundation course",
    "Psychologically Informed Planned Environments: staff training",
    "Reflective practice group",
    "Therapeutic communities: Living-Learning Experience",
    "Structured Clinical Management introduction",
)
REFLECTION = (
    "I learnt to notice my own reactions before responding, and to ask what happened before a "
    "crisis rather than what is wrong with the person. In supervision we linked this to the "
    "relational charter's principle of safety and confidence. "
)


def build(count: int) -> list[LearningRecordEntry]:
    start = date(2024, 1, 8)
    methods, themes = list(METHODS), list(THEMES)
    entries = []
    for n in range(count):
        day = start + timedelta(days=4 * n)
        entries.append(
            LearningRecordEntry(
                title=f"{TITLES[n % len(TITLES)]} ({n + 1})",
                provider_name="Leeds and York Partnership NHS Foundation Trust",
                completed_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
                started_on=day - timedelta(days=2) if n % 3 == 0 else None,
                hours=1 + n % 12,
                participatory_hours=n % 6,
                method=methods[n % len(methods)],
                verified=n % 2 == 0,
                themes=themes[n % 5 : n % 5 + 2],
                relevance=REFLECTION if n % 2 else "",
                learnt=REFLECTION * (1 + n % 3),
                change_to_practice=REFLECTION if n % 4 == 0 else "",
                peer_name="A colleague" if n % 5 == 0 else "",
                peer_reflection=REFLECTION if n % 5 == 0 else "",
            )
        )
    return entries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import os

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3",
            "SECRET_KEY": "bench", "SEARCH_INDEX_DIR": f"{tmp}/index", "SEARCH_SYNC": "off",
            "CREDENTIALS_KEY_DIR": f"{tmp}/credentials",
        })  # fmt: skip
        with app.app_context():
            db.drop_all()
            db.create_all()
            user = User(
                email="learner@example.org",
                name="Bench Learner",
                password_hash="x",
                calendar_token=secrets.token_urlsafe(24),
                email_confirmed_at=utcnow(),
            )
            db.session.add(user)
            db.session.flush()
            for entry in build(args.entries):
                entry.user_id = user.id
                db.session.add(entry)
            db.session.commit()
            token = start_session(user)
            db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = token
            session["_fresh"] = True
        times, cpu, size, pages = [], [], 0, 0
        for _ in range(args.runs):
            began, began_cpu = time.perf_counter(), time.process_time()
            response = client.get("/portfolio/export.pdf")
            times.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
            assert response.status_code == 200, response.status_code
            size = len(response.data)
            pages = response.data.count(b"/Type /Page\n")
        print(f"{args.entries} entries, {size / 1024:.0f} KiB, {pages or '?'} pages")
        print("wall: " + ", ".join(f"{t:.3f} s" for t in times))
        print("cpu:  " + ", ".join(f"{t:.3f} s" for t in cpu))
        print(
            f"median {statistics.median(times):.3f} s wall, {statistics.median(cpu):.3f} s CPU "
            "(target < 1.5 s)"
        )
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        with app.app_context():
            db.drop_all()


if __name__ == "__main__":
    main()
