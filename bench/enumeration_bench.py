"""Account enumeration by time: do register, log-in and reset answer as fast for an address that
has an account as for one that has none? Prints the median of each and the gap; exits 1 when a
gap is 10 ms or more (issue 15). Usage (``DATABASE_URL`` selects the database, default a
temporary SQLite file):

    .venv/bin/python bench/enumeration_bench.py [--runs 40] [--only register|log-in|reset]

Log-in is timed with a wrong password. Each request goes through the whole application
(routing, the form, the service, the template, the commit) in process, with the Flask test
client; known and unknown requests run in back-to-back pairs in a random order, so drift on a
shared machine falls on both. It prints medians of wall-clock time and of the process's CPU
time. Mail is queued, not sent (it is sent after the response in production, so it never adds
to the answer's time).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from academy import create_app  # noqa: E402
from academy.accounts.models import User  # noqa: E402
from academy.accounts.passwords import hash_password  # noqa: E402
from academy.db_types import utcnow  # noqa: E402
from academy.extensions import db  # noqa: E402

PASSWORD = "a long unusual benchmark passphrase"
LIMIT_MS = 10.0


def make_app(tmp: str, database_url: str):
    return create_app({
        "DATABASE_URL": database_url or f"sqlite:///{tmp}/bench.sqlite3",
        "SECRET_KEY": "bench", "SEARCH_INDEX_DIR": f"{tmp}/index", "SEARCH_SYNC": "off",
        "MAIL_FILE_DIR": f"{tmp}/mail", "MAIL_SEND_AFTER_REQUEST": False,
        "WTF_CSRF_ENABLED": False, "RATE_LIMITS_ENABLED": False,
        # the limit on failed log-ins would end the run; it is the same for both kinds of address
        "LOGIN_FAILURES_PER_ACCOUNT": 10**6, "LOGIN_FAILURES_PER_ADDRESS": 10**6,
    })  # fmt: skip


def timed(send: Callable[[], int]) -> tuple[float, float]:
    """Wall-clock and CPU milliseconds of one request."""
    wall, cpu = time.perf_counter(), time.process_time()
    status = send()
    wall, cpu = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
    if status >= 500:
        raise SystemExit(f"server error {status}")
    return wall, cpu


def measure(runs: int, known: Callable[[], int], unknown: Callable[[], int]) -> dict[str, float]:
    """Medians (ms) of ``runs`` known and ``runs`` unknown requests, after two of each to warm
    up; each pair runs back to back in a random order, so load from elsewhere falls on both."""
    for send in (known, unknown, known, unknown):
        send()
    times: dict[str, list[tuple[float, float]]] = {"known": [], "unknown": []}
    for _ in range(runs):
        for kind in random.sample(["known", "unknown"], 2):
            times[kind].append(timed(known if kind == "known" else unknown))
    return {
        f"{kind} {clock}": statistics.median(sample[index] for sample in times[kind])
        for kind in ("known", "unknown")
        for index, clock in enumerate(("wall", "cpu"))
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument(
        "--only", choices=["register", "log-in", "reset"], help="measure one of the three"
    )
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    print(f"# {args.runs} of each, database {database_url.split('@')[-1] or 'SQLite (temporary)'}")
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(tmp, database_url)
        with app.app_context():
            db.drop_all()
            db.create_all()
            known = User(
                email="known@example.org",
                name="Known Person",
                password_hash=hash_password(PASSWORD),
                calendar_token=secrets.token_urlsafe(24),
                email_confirmed_at=utcnow(),
            )
            db.session.add(known)
            db.session.commit()
            client = app.test_client()
            fresh = (f"new-{number}@example.org" for number in range(10**6))

            def register(email: str) -> Callable[[], int]:
                data = {"name": "Sam Field", "email": email, "password": PASSWORD}
                return lambda: client.post("/register", data=data).status_code

            def log_in(email: str) -> Callable[[], int]:
                data = {"email": email, "password": "not the right password"}
                return lambda: client.post("/login", data=data).status_code

            def reset(email: str) -> Callable[[], int]:
                return lambda: client.post("/forgot-password", data={"email": email}).status_code

            pairs = {
                "register": (register(known.email), lambda: register(next(fresh))()),
                "log-in": (log_in(known.email), log_in("nobody@example.org")),
                "reset": (reset(known.email), reset("nobody@example.org")),
            }
            results = {
                name: measure(args.runs, *sends)
                for name, sends in pairs.items()
                if args.only in (None, name)
            }
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    failed = False
    print("medians in ms; wall = the time to answer, cpu = this process's work for it")
    print(
        f"{'':24} {'known':>7} {'unknown':>7} {'gap':>6}   {'known':>7} {'unknown':>7} {'gap':>6}"
    )
    print(f"{'':24} {'wall':>7} {'wall':>7} {'wall':>6}   {'cpu':>7} {'cpu':>7} {'cpu':>6}")
    for name, m in results.items():
        wall_gap = abs(m["known wall"] - m["unknown wall"])
        cpu_gap = abs(m["known cpu"] - m["unknown cpu"])
        failed |= wall_gap >= LIMIT_MS
        verdict = "ok" if wall_gap < LIMIT_MS else f"OVER {LIMIT_MS:.0f} ms"
        print(
            f"{name:24} {m['known wall']:7.1f} {m['unknown wall']:7.1f} {wall_gap:6.1f}   "
            f"{m['known cpu']:7.1f} {m['unknown cpu']:7.1f} {cpu_gap:6.1f}  {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
