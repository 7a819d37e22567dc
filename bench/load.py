"""Load test: gunicorn on PostgreSQL, a 10k-course catalogue, 50 users for 30 s per phase.

What it does, in order (every step bounded in time; traffic only to 127.0.0.1):

1. Prepares ``LOAD_DATABASE_URL`` (default the local ``academy_load`` database): migrates it, and
   if it has no courses builds the synthetic 10k catalogue of ``bench/search_bench.py`` (same
   generator, same seed); adds the load learners (``load-learner-N@example.org``) with a few
   places each for My learning, and builds or syncs the search index in
   ``instance/load-index-<database>``. A database that already has the catalogue is reused.
2. Starts gunicorn on a free loopback port (``--workers``, ``--threads``; gthread workers) with
   ``SEARCH_SYNC=off`` and one ``flask search sync --follow`` process beside it, as a production
   server runs, and ``BENCHMARK_HELLO=1`` so that the bare ``/_bench/hello`` endpoint exists
   (it is never registered otherwise). Rate limits, when the app has any, are configured off
   for the run (``ACADEMY_RATE_LIMITS_ENABLED=0``; see docs/benchmarks.md).
3. Signs in the learners: each gets a server-side session (``accounts.security.start_session``,
   exactly what the log-in form does after checking the password) and a signed session cookie
   with a CSRF token, so no password hashing or log-in limit skews the figures.
4. Runs locust headless (``bench/locustfile.py``), ``--users`` users for ``--seconds`` seconds
   per phase: hello, search (a realistic mix: popular queries repeat, filters, page 2),
   search-cold (every request a distinct query), course pages, My learning. For each: requests,
   req/s, p50, p95, failures, and the machine's load while it ran.
5. The enrolment storm: ``--storm`` learners POST to enrol in one new cohort of 20 places, all
   released at once. Exactly 20 must be enrolled, the rest waitlisted, no 5xx.

Prints a Markdown table (also written to ``instance/load-report.md``) and exits non-zero when a
phase had errors or the storm did not fill exactly the places there were. Usage::

    .venv/bin/python bench/load.py [--phases hello,search,search-cold,course,learning]
        [--users 50] [--seconds 30] [--workers 4] [--threads 4] [--storm 200] [--storm-only]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_DATABASE_URL = "postgresql://academy:academy@127.0.0.1:5432/academy_load"
SECRET_KEY = "load-benchmark-only-not-a-real-secret"
COURSES = 10_000
LEARNERS = 50
PLACES_EACH = 4
STORM = 200
STORM_PLACES = 20
BIN = Path(sys.executable).parent
PHASES = ("hello", "search", "search-cold", "course", "learning")
SEED = 20261126


def _database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "default"


def _settings(url: str) -> dict[str, str]:
    """The app's configuration for every process of the run (web workers, follower, this one)."""
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "SEARCH_INDEX_DIR": str(ROOT / "instance" / f"load-index-{_database_name(url)}"),
    }


def make_app(url: str):
    from academy import create_app

    return create_app({**_settings(url), "SEARCH_SYNC": "off"})


# ----------------------------------------------------------------------------------- preparing


def prepare(app, size: int, learners: int, storm: int) -> None:
    """Migrate; build the catalogue if the database has none; add learners; build the index."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from academy.catalogue.models import Course
    from academy.extensions import db
    from academy.search import get_store, indexer

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        count = db.session.scalar(select(func.count(Course.id))) or 0
        if count == 0:
            from search_bench import Corpus, build_catalogue

            started = time.perf_counter()
            build_catalogue(size, Corpus())
            print(f"Built {size:,} courses in {time.perf_counter() - started:.1f} s", flush=True)
        elif count < size:
            raise SystemExit(
                f"{_database_name(str(db.engine.url))} has {count:,} courses, not {size:,}: "
                "give an empty database (or the one a previous run built)."
            )
        _ensure_learners(learners, storm)
        started = time.perf_counter()
        report = indexer.sync(get_store(), db.engine)
        get_store().close()
        print(
            f"Index {'rebuilt' if report.rebuilt else 'synced'} in "
            f"{time.perf_counter() - started:.1f} s ({report.indexed} documents)",
            flush=True,
        )


def _ensure_learners(learners: int, storm: int) -> None:
    """Learners ``load-learner-N`` (My learning, with places) and ``load-storm-N`` (the storm)."""
    import secrets as _secrets

    from sqlalchemy import select, update

    from academy.accounts.models import User
    from academy.accounts.passwords import hash_password
    from academy.catalogue.models import Cohort, CohortSession, Course
    from academy.db_types import utcnow
    from academy.enrolment.models import Enrolment
    from academy.extensions import db

    wanted = [f"load-learner-{n}@example.org" for n in range(learners)]
    wanted += [f"load-storm-{n}@example.org" for n in range(storm)]
    have = set(db.session.scalars(select(User.email).where(User.email.like("load-%"))))
    missing = [email for email in wanted if email not in have]
    if missing:
        password_hash = hash_password(_secrets.token_urlsafe(16))  # nobody logs in by password
        for email in missing:
            db.session.add(
                User(
                    email=email,
                    name=email.split("@")[0].replace("-", " ").title(),
                    password_hash=password_hash,
                    calendar_token=_secrets.token_urlsafe(24),
                    email_confirmed_at=utcnow(),
                )
            )
        db.session.flush()
    # places for My learning: a few upcoming cohorts each
    cohorts = list(
        db.session.scalars(
            select(Cohort.id)
            .join(Course, Course.id == Cohort.course_id)
            .join(CohortSession, CohortSession.cohort_id == Cohort.id)
            .where(Course.status == "published", CohortSession.starts_at > utcnow())
            .order_by(Cohort.id)
            .limit(200)
        )
    )
    rng = random.Random(SEED)
    users = db.session.scalars(select(User).where(User.email.like("load-learner-%"))).all()
    placed = set(db.session.scalars(select(Enrolment.user_id).distinct()))
    for user in users:
        if user.id in placed or not cohorts:
            continue
        for cohort_id in rng.sample(cohorts, min(PLACES_EACH, len(cohorts))):
            taken = db.session.execute(
                update(Cohort)
                .where(Cohort.id == cohort_id, Cohort.seats_taken < Cohort.capacity)
                .values(seats_taken=Cohort.seats_taken + 1)
            ).rowcount
            db.session.add(
                Enrolment(
                    user_id=user.id,
                    cohort_id=cohort_id,
                    status="enrolled" if taken else "waitlisted",
                    enrolled_at=utcnow() if taken else None,
                )
            )
    db.session.commit()


# ------------------------------------------------------------------------------------ the plan


def _signed_in(app, users) -> list[tuple[str, str]]:
    """A session cookie and a CSRF token for each user, as after logging in."""
    from itsdangerous import URLSafeTimedSerializer

    from academy.accounts.security import start_session
    from academy.extensions import db

    serializer = app.session_interface.get_signing_serializer(app)
    csrf = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
    signed = []
    for user in users:
        token = start_session(user)
        raw = secrets.token_hex(20)
        cookie = serializer.dumps({"_user_id": token, "_fresh": True, "csrf_token": raw})
        signed.append((f"{app.config['SESSION_COOKIE_NAME']}={cookie}", csrf.dumps(raw)))
    db.session.commit()
    return signed


def make_plan(app, cold_requests: int) -> dict:
    """Paths for every phase, drawn with a fixed seed from the catalogue's own words."""
    from search_bench import Corpus
    from sqlalchemy import select

    from academy.accounts.models import User
    from academy.catalogue.models import Course
    from academy.extensions import db
    from academy.taxonomy.models import TERM_MODELS

    rng = random.Random(SEED)
    words = Corpus().query_words
    with app.app_context():
        slugs = {
            kind: list(db.session.scalars(select(model.slug)))
            for kind, model in TERM_MODELS.items()
        }
        course_slugs = list(
            db.session.scalars(select(Course.slug).where(Course.status == "published"))
        )
        learners = db.session.scalars(
            select(User).where(User.email.like("load-learner-%")).order_by(User.id)
        ).all()
        cookies = [cookie for cookie, _csrf in _signed_in(app, learners)]

    def query() -> str:
        return " ".join(rng.sample(words, rng.choice((1, 1, 2, 2, 2, 3))))

    # The mix: 300 distinct queries, popularity by Zipf's law (rank r asked ~1/r as often), so
    # a few are very common and most are rare, as in search logs; a third carry a filter, one in
    # ten asks for page 2 (those that have none get a 404, counted as an error, so only page 1
    # for one-word queries, which find the most).
    popular = [query() for _ in range(300)]
    weights = [1 / (rank + 1) for rank in range(len(popular))]
    mix = []
    for q in rng.choices(popular, weights, k=5000):
        args: dict[str, object] = {"q": q}
        roll = rng.random()
        if roll < 0.15:
            args["step"] = rng.choice(slugs["steps"])
        elif roll < 0.25:
            args["sector"] = rng.choice(slugs["sectors"])
        elif roll < 0.33:
            args["free"] = "1"
        mix.append(f"/courses?{urlencode(args)}")
    # Cold: every request a query never asked before (three words, so none repeats).
    seen: set[str] = set(popular)
    cold = []
    while len(cold) < cold_requests:
        q = " ".join(rng.sample(words, 3))
        if q not in seen:
            seen.add(q)
            cold.append(f"/courses?{urlencode({'q': q})}")
    return {
        "search_mix": mix,
        "search_cold": cold,
        "course_paths": [f"/courses/{slug}" for slug in rng.sample(course_slugs, 2000)],
        "learner_cookies": cookies,
    }


# ---------------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(_settings(url))
    env.update(
        {
            "ACADEMY_SEARCH_SYNC": "off",  # the follower below applies the outbox
            "ACADEMY_BENCHMARK_HELLO": "1",
            "ACADEMY_RATE_LIMITS_ENABLED": "0",  # if the app has rate limits: off for the run
            "FLASK_APP": "wsgi",
        }
    )
    return env


@contextlib.contextmanager
def serving(url: str, workers: int, threads: int, worker_class: str = "gthread"):
    """gunicorn and a search follower on a free loopback port; both stopped on the way out.
    ``worker_class="sync"`` runs single-threaded sync workers (``threads`` is then ignored)."""
    import urllib.request

    port = free_port()
    env = server_environment(url)
    logs = ROOT / "instance" / "load-logs"
    logs.mkdir(parents=True, exist_ok=True)
    if worker_class == "sync":
        threads = 1
    command = [
        str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
        "--worker-class", worker_class, "--threads", str(threads), "--backlog", "2048",
        "--timeout", "60", "--log-level", "warning", "--max-requests", "0", "wsgi:app",
    ]  # fmt: skip
    with open(logs / "gunicorn.log", "ab") as log, open(logs / "follower.log", "ab") as flog:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        follower = subprocess.Popen(
            [str(BIN / "flask"), "search", "sync", "--follow"],
            cwd=ROOT, env=env, stdout=flog, stderr=flog,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/_bench/hello", timeout=5) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        message = f"gunicorn did not start; see {logs / 'gunicorn.log'}"
                        raise SystemExit(message) from None
                    time.sleep(0.2)
            # every worker opens its index searcher and connection pool before we measure
            for _ in range(workers * threads * 2):
                urllib.request.urlopen(f"{base}/courses?q=course", timeout=60).read()
            yield base, server
        finally:
            for process in (follower, server):
                process.send_signal(signal.SIGTERM)
            for process in (follower, server):
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()


# ------------------------------------------------------------------------------------ measuring


def _cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _tree_cpu(pid: int) -> int:
    """CPU jiffies used so far by ``pid`` and its children (gunicorn and its workers), counting
    workers that have exited too (gunicorn recycles them after ``max_requests``): their time is
    in the master's ``cutime``/``cstime`` once it has reaped them."""

    def times(each: int, reaped: bool) -> int:
        try:
            stat = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            return 0
        # after the name: utime, stime, cutime, cstime are fields 12 to 15 (from 0)
        return int(stat[11]) + int(stat[12]) + (int(stat[13]) + int(stat[14]) if reaped else 0)

    total = times(pid, reaped=True)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        total += sum(times(int(child), reaped=False) for child in children.read_text().split())
    return total


def run_phase(base: str, server, name: str, user_class: str, users: int, seconds: int,
              plan_file: Path, out: Path) -> dict:  # fmt: skip
    """Run one locust phase headless; return its figures and the machine's load meanwhile."""
    prefix = out / name
    busy0, total0 = _cpu_busy()
    ours0 = _tree_cpu(server.pid)
    load0 = os.getloadavg()[0]
    command = [
        str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
        "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
        "--stop-timeout", "10", "--host", base, "--csv", str(prefix), "--only-summary",
        "--loglevel", "WARNING", user_class,
    ]  # fmt: skip
    env = dict(os.environ, LOAD_PLAN=str(plan_file))
    subprocess.run(command, env=env, check=False, timeout=seconds + 120,
                   stdout=subprocess.DEVNULL, stderr=open(out / f"{name}.log", "wb"))  # fmt: skip
    busy1, total1 = _cpu_busy()
    ours = _tree_cpu(server.pid) - ours0
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    row = next(r for r in rows if r["Name"] == "Aggregated")
    failures = int(row["Failure Count"])
    with contextlib.suppress(FileNotFoundError):
        for failure in csv.DictReader(open(f"{prefix}_failures.csv", encoding="utf-8")):
            print(f"  {name} failure: {failure['Error']} ×{failure['Occurrences']}", flush=True)
    elapsed = max(total1 - total0, 1)
    return {
        "phase": name,
        "requests": int(row["Request Count"]),
        "rps": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p95": float(row["95%"]),
        "failures": failures,
        "names": sorted({r["Name"] for r in rows} - {"Aggregated"}),
        "load": (load0, os.getloadavg()[0]),
        "machine_busy": (busy1 - busy0) / elapsed,
        "server_share": ours / elapsed,
        # gunicorn's own CPU time per request: what the figures would be on a quiet machine
        # depends on this, not on the other processes sharing the cores
        "cpu_ms": ours * 1000 / os.sysconf("SC_CLK_TCK") / max(int(row["Request Count"]), 1),
    }


# ------------------------------------------------------------------------------------ the storm


def enrolment_storm(app, base: str, learners: int, places: int) -> tuple[bool, str]:
    """``learners`` signed-in learners POST to enrol in one new cohort of ``places`` places, all
    released together. True when exactly ``places`` hold a place, the rest wait, and no request
    failed with a 5xx."""
    import requests
    from sqlalchemy import func, select

    from academy.accounts.models import User
    from academy.catalogue.models import Cohort, CohortSession, Course
    from academy.enrolment.models import Enrolment
    from academy.extensions import db

    with app.app_context():
        course = db.session.scalar(
            select(Course).where(Course.status == "published").order_by(Course.id).limit(1)
        )
        cohort = Cohort(course_id=course.id, capacity=places, seats_taken=0, is_online=True)
        db.session.add(cohort)
        db.session.flush()
        starts = datetime.now(UTC) + timedelta(days=30)
        ends = starts + timedelta(hours=3)
        db.session.add(CohortSession(cohort_id=cohort.id, starts_at=starts, ends_at=ends))
        db.session.commit()
        cohort_id = cohort.id
        users = db.session.scalars(
            select(User).where(User.email.like("load-storm-%")).order_by(User.id).limit(learners)
        ).all()
        signed = _signed_in(app, users)

    barrier = threading.Barrier(len(signed))

    def post(pair: tuple[str, str]) -> int:
        cookie, token = pair
        with requests.Session() as client:
            barrier.wait(timeout=60)
            try:
                return client.post(
                    f"{base}/cohorts/{cohort_id}/enrol", data={"csrf_token": token},
                    headers={"Cookie": cookie}, allow_redirects=False, timeout=120,
                ).status_code  # fmt: skip
            except requests.RequestException:
                return 0

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(signed)) as pool:
        codes = Counter(pool.map(post, signed))
    seconds = time.perf_counter() - started
    with app.app_context():
        statuses = Counter(
            dict(
                db.session.execute(
                    select(Enrolment.status, func.count())
                    .where(Enrolment.cohort_id == cohort_id)
                    .group_by(Enrolment.status)
                ).all()
            )
        )
        seats = db.session.get(Cohort, cohort_id).seats_taken
    bad = sum(n for code, n in codes.items() if code == 0 or code >= 500)
    ok = (
        statuses.get("enrolled", 0) == places
        and statuses.get("waitlisted", 0) == len(signed) - places
        and seats == places
        and bad == 0
    )
    summary = (
        f"{len(signed)} simultaneous enrolment POSTs for {places} places in {seconds:.1f} s: "
        f"{statuses.get('enrolled', 0)} enrolled, {statuses.get('waitlisted', 0)} waitlisted, "
        f"seats_taken {seats}; responses {dict(sorted(codes.items()))}; 5xx or no answer: {bad}"
    )
    return ok, summary


# ---------------------------------------------------------------------------------- in process


def in_process(url: str, requests: int = 200) -> str:
    """CPU time of this process per request through Flask's test client (no HTTP server, no
    client, PostgreSQL's own time excluded): a figure the other work on the machine barely
    moves, unlike wall-clock rates. The search page cold (every query new), then warm (the same
    queries again, from the cache), beside hello and a course page."""
    from academy import create_app

    app = create_app({**_settings(url), "SEARCH_SYNC": "off", "BENCHMARK_HELLO": "1"})
    plan = make_plan(app, cold_requests=requests)
    client = app.test_client()

    def cpu_ms(paths: list[str]) -> tuple[float, float]:
        started, wall = time.process_time(), time.perf_counter()
        for path in paths:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")
        count = len(paths)
        return ((time.process_time() - started) * 1000 / count,
                (time.perf_counter() - wall) * 1000 / count)  # fmt: skip

    client.get("/courses?q=warm+up")  # open the searcher, as a running worker has
    cold = plan["search_cold"][:requests]
    rows = [
        ("hello", cpu_ms(["/_bench/hello"] * requests)),
        ("search, cold (every query new)", cpu_ms(cold)),
        ("search, warm (the same queries again)", cpu_ms(cold)),
        ("search mix, from an empty cache", cpu_ms(plan["search_mix"][:requests])),
        ("course page", cpu_ms(plan["course_paths"][:requests])),
    ]
    lines = [
        f"In process, {requests} requests each, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load "
        f"average {os.getloadavg()[0]:.1f}:",
        "",
        "| request | CPU ms/request | wall ms/request | req/s per core (CPU bound) |",
        "|---|---|---|---|",
    ]
    for name, (cpu, wall) in rows:
        lines.append(f"| {name} | {cpu:.1f} | {wall:.1f} | {1000 / cpu:,.0f} |")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ reporting


def report(results: list[dict], args, storm: str | None) -> str:
    by_name = {r["phase"]: r for r in results}
    lines = [
        f"**Run:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node() or 'this machine'}, "
        f"{os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}; "
        f"gunicorn {args.workers} gthread workers × {args.threads} threads on 127.0.0.1, "
        f"PostgreSQL `{_database_name(args.database_url)}` ({args.courses:,} courses), locust "
        f"{args.users} users × {args.seconds} s per phase, no wait between requests.",
        "",
        "| phase | requests | req/s | p50 ms | p95 ms | errors | × hello | load avg (start→end) "
        "| machine CPU busy | of which gunicorn | gunicorn CPU ms/request |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    hello = by_name.get("hello", {}).get("rps")
    for r in results:
        ratio = f"{r['rps'] / hello:.1%}" if hello else "–"
        lines.append(
            f"| {r['phase']} | {r['requests']:,} | {r['rps']:,.0f} | {r['p50']:,.0f} | "
            f"{r['p95']:,.0f} | {r['failures']} | {ratio} | {r['load'][0]:.1f}→{r['load'][1]:.1f} "
            f"| {r['machine_busy']:.0%} | {r['server_share']:.0%} | {r['cpu_ms']:.1f} |"
        )
    if storm:
        lines += ["", f"**Enrolment storm:** {storm}"]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL",
                                                                 DEFAULT_DATABASE_URL))  # fmt: skip
    parser.add_argument("--courses", type=int, default=COURSES)
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--storm", type=int, default=STORM)
    parser.add_argument("--storm-only", action="store_true", help="only the enrolment storm")
    parser.add_argument("--no-storm", action="store_true")
    parser.add_argument(
        "--in-process", type=int, metavar="N", default=0,
        help="instead of the server: N requests per kind through the test client, CPU per request",
    )  # fmt: skip
    args = parser.parse_args()
    if not args.database_url.startswith(("postgresql://", "postgres://")):
        raise SystemExit("The load test runs on PostgreSQL: set LOAD_DATABASE_URL.")
    phases = [] if args.storm_only else [p for p in args.phases.split(",") if p]
    for phase in phases:
        if phase not in PHASES:
            raise SystemExit(f"Unknown phase {phase!r}; phases are {', '.join(PHASES)}")
    app = make_app(args.database_url)
    prepare(app, args.courses, LEARNERS, args.storm)
    if args.in_process:
        print(in_process(args.database_url, args.in_process))
        return 0
    classes = {"hello": "Hello", "search": "Search", "search-cold": "SearchCold",
               "course": "Course", "learning": "Learning"}  # fmt: skip
    results: list[dict] = []
    storm_ok, storm_summary = True, None
    with tempfile.TemporaryDirectory(prefix="academy-load-") as tmp:
        out = Path(tmp)
        plan_file = out / "plan.json"
        if phases:
            # enough distinct cold queries for 2,000 req/s, far beyond what the page serves
            plan = make_plan(app, cold_requests=2000 * args.seconds)
            plan_file.write_text(json.dumps(plan), encoding="utf-8")
        with serving(args.database_url, args.workers, args.threads) as (base, server):
            for phase in phases:
                print(f"Phase {phase}: {args.users} users for {args.seconds} s …", flush=True)
                result = run_phase(base, server, phase, classes[phase], args.users,
                                   args.seconds, plan_file, out)  # fmt: skip
                results.append(result)
                print(
                    f"  {result['rps']:,.0f} req/s, p50 {result['p50']:,.0f} ms, "
                    f"p95 {result['p95']:,.0f} ms, {result['failures']} errors",
                    flush=True,
                )
            if not args.no_storm and args.storm > 0:
                storm_ok, storm_summary = enrolment_storm(app, base, args.storm, STORM_PLACES)
                print(f"Storm: {'OK' if storm_ok else 'FAILED'}: {storm_summary}", flush=True)
    table = report(results, args, storm_summary)
    (ROOT / "instance").mkdir(exist_ok=True)
    (ROOT / "instance" / "load-report.md").write_text(table + "\n", encoding="utf-8")
    print("\n" + table)
    errors = sum(r["failures"] for r in results)
    if errors:
        print(f"FAILED: {errors} requests failed", file=sys.stderr)
    if not storm_ok:
        print("FAILED: the enrolment storm did not fill exactly the places", file=sys.stderr)
    return 1 if errors or not storm_ok else 0


if __name__ == "__main__":
    sys.exit(main())
