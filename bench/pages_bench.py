"""Page benchmark: every public page against hello and a minimal FTS5 search page, with wrk.

What it does, in order (traffic only to 127.0.0.1):

1. Prepares ``LOAD_DATABASE_URL`` exactly as ``make load`` does (``bench/load.py``: migrate, the
   synthetic 10k catalogue, the load learners with places, the search index).
2. Copies the public courses into a SQLite file and serves the minimal Flask + SQLite FTS5
   search page of ``bench/fts5_page.py`` (match, count, 20 results, three facets, snippets) with
   gunicorn, beside the academy's gunicorn (``--workers`` sync workers by default, as the issue
   measured; the search follower beside it as in production; ``/_bench/hello`` on).
3. Drives each page for ``--seconds`` with wrk (``bench/rotate.lua`` takes each request's path
   from a plan, so paths rotate), one page at a time:

   - ``hello``: ``/_bench/hello`` (no database, no template);
   - ``fts5``: the FTS5 page, every query new;
   - ``search-new``: ``/courses?q=…``, every query new: one to three words from the catalogue's
     vocabulary, never asked before in the run (the plan is longer than the phase; the report
     says if a thread ever wrapped round to a query it had asked);
   - ``search-repeat``: 200 queries of one to three words, rotating (after the first round every
     request is a results-cache hit in each worker);
   - ``course``: every public course page in a random order (mostly a first view in its
     worker, so the course page's cache seldom answers);
   - ``browse``: 200 browse pages rotating (sorts, pages, step, sector, free, starting within);
   - ``learning``: My learning for the 50 load learners (4 places each), signed in.

   For each: requests per second, p50, p99, errors (non-2xx included), the server's own CPU per
   request (gunicorn's master and workers, from /proc), and the share of hello; then the
   issue's ratios: search with every query new against the FTS5 page (target at least 3×) and
   the course page against the search page (target at least 1×).
4. In process (``--in-process N``, default 200; 0 skips it): CPU time of this process per
   request through Flask's test client, against the issue's targets at 10k courses: course page
   4 ms, search with a new query 6 ms, a repeated search 2 ms, browse 3 ms, My learning 5 ms.

Prints Markdown tables (also written to ``instance/pages-report.md``) and exits non-zero when
any request failed. Usage::

    LOAD_DATABASE_URL=postgresql://… .venv/bin/python bench/pages_bench.py
        [--seconds 10] [--workers 2] [--worker-class sync] [--connections 8] [--in-process 200]
        [--phases hello,fts5,search-new,search-repeat,course,browse,learning] [--profile PAGE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402

WRK = os.environ.get("WRK", "/usr/bin/wrk")
SEED = 20261203
PHASES = ("hello", "fts5", "search-new", "search-repeat", "course", "browse", "learning")
#: the issue's CPU budgets per request in process, in ms, at 10k courses on PostgreSQL
TARGETS = {
    "course page": 4.0,
    "search, every query new": 6.0,
    "search, repeated": 2.0,
    "browse": 3.0,
    "My learning": 5.0,
}


# ------------------------------------------------------------------------------------ the plan


def make_plan(app, new_queries: int) -> dict[str, list[str]]:
    """The paths of every phase (a line may carry a tab and a Cookie header), drawn with a
    fixed seed from the catalogue's own words and rows."""
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
            kind: list(db.session.scalars(select(model.slug).order_by(model.id)))
            for kind, model in TERM_MODELS.items()
        }
        courses = list(
            db.session.scalars(
                select(Course.slug).where(Course.status == "published").order_by(Course.id)
            )
        )
        learners = db.session.scalars(
            select(User).where(User.email.like("load-learner-%")).order_by(User.id)
        ).all()
        cookies = [cookie for cookie, _csrf in load._signed_in(app, learners)]

    def query() -> str:
        return " ".join(rng.sample(words, rng.choice((1, 1, 2, 2, 2, 3))))

    repeated = []
    seen: set[str] = set()
    while len(repeated) < 200:
        if (q := query()) not in seen:
            seen.add(q)
            repeated.append(q)
    fresh = []
    while len(fresh) < new_queries:  # never one of the repeated ones, never twice
        if (q := query()) not in seen:
            seen.add(q)
            fresh.append(q)
    rng.shuffle(courses)
    browse: dict[str, None] = {}  # 200 distinct pages: a filter or none, a sort, a page
    while len(browse) < 200:
        args: dict[str, object] = {}
        roll = rng.randrange(7)
        if roll == 1:
            args["step"] = rng.choice(slugs["steps"])
        elif roll == 2:
            args["sector"] = rng.choice(slugs["sectors"])
        elif roll == 3:
            args["free"] = "1"
        elif roll == 4:
            args["weeks"] = rng.choice((4, 8, 12, 26))
        elif roll == 5:
            args["region"] = rng.choice(slugs["regions"])
        if (sort := rng.choice(("start", "start", "title", "newest"))) != "start":
            args["sort"] = sort
        if (page := rng.randint(1, 20) if roll == 0 else rng.randint(1, 3)) > 1:
            args["page"] = page
        browse[f"/courses?{urlencode(args)}"] = None
    return {
        "hello": ["/_bench/hello"],
        "search-new": [f"/courses?{urlencode({'q': q})}" for q in fresh],
        "fts5": [f"/fts5?{urlencode({'q': q})}" for q in fresh],
        "search-repeat": [f"/courses?{urlencode({'q': q})}" for q in repeated],
        "course": [f"/courses/{slug}" for slug in courses],
        "browse": list(browse),
        "learning": [f"/my-learning\t{cookie}" for cookie in cookies],
    }


# ---------------------------------------------------------------------------------- the FTS5 page


def build_fts5_file(app, target: Path) -> float:
    """Copy the public courses, their sectors, providers and three facets' terms from the
    academy's database into ``target`` and index them with FTS5; returns the seconds taken."""
    from fts5_page import build
    from sqlalchemy import text

    from academy.extensions import db

    started = time.perf_counter()
    with app.app_context(), db.engine.connect() as conn:

        def rows(sql: str) -> list[tuple]:
            return [tuple(row) for row in conn.execute(text(sql))]

        public = "SELECT id FROM courses WHERE status = 'published'"
        build(
            target,
            {
                "courses": rows(
                    "SELECT id, slug, title, summary, description, provider_id, step_id, "
                    "region_id FROM courses WHERE status = 'published'"
                ),
                "course_sectors": rows(
                    f"SELECT course_id, sector_id FROM course_sectors WHERE course_id IN ({public})"
                ),
                "providers": rows("SELECT id, name FROM providers"),
                "steps": rows("SELECT id, name, position FROM steps"),
                "sectors": rows("SELECT id, name, position FROM sectors"),
                "regions": rows("SELECT id, name, position FROM regions"),
            },
        )
    return time.perf_counter() - started


@contextlib.contextmanager
def serving_fts5(database: Path, workers: int):
    """gunicorn serving ``bench/fts5_page.py`` on a free loopback port (sync workers)."""
    port = load.free_port()
    logs = ROOT / "instance" / "load-logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, FTS5_PAGE_DB=str(database))
    command = [
        str(load.BIN / "gunicorn"), "--chdir", str(ROOT / "bench"), "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--backlog", "2048", "--log-level", "warning",
        "--max-requests", "0", "fts5_page:app",
    ]  # fmt: skip
    with open(logs / "fts5.log", "ab") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/hello", timeout=5):
                        break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit(f"the FTS5 page did not start; see {logs}") from None
                    time.sleep(0.2)
            for _ in range(workers * 4):
                urllib.request.urlopen(f"{base}/fts5?q=course", timeout=60).read()
            yield base, server
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


# ------------------------------------------------------------------------------------ measuring


def run_wrk(base: str, server, name: str, paths: list[str], args, out: Path) -> dict:
    """One wrk phase over ``paths``; its figures and the server's CPU per request."""
    plan = out / f"{name}.plan"
    plan.write_text("\n".join(paths) + "\n", encoding="utf-8")
    busy0, total0 = load._cpu_busy()
    ours0 = load._tree_cpu(server.pid)
    load0 = os.getloadavg()[0]
    command = [
        WRK, "-t", str(args.wrk_threads), "-c", str(args.connections), "-d", f"{args.seconds}s",
        "--timeout", "30s", "-s", str(ROOT / "bench" / "rotate.lua"), base + "/",
        "--", str(plan), str(args.wrk_threads),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + 60)
    busy1, total1 = load._cpu_busy()
    ours = load._tree_cpu(server.pid) - ours0
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"wrk failed on {name}: {done.stdout}\n{done.stderr}")
    figures = json.loads(lines[-1])
    seconds = figures["duration_us"] / 1e6
    requests = figures["requests"]
    errors = sum(figures[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "phase": name,
        "requests": requests,
        "rps": requests / seconds,
        "p50": figures["p50_us"] / 1000,
        "p99": figures["p99_us"] / 1000,
        "errors": errors,
        "wraps": figures["wraps"],
        "distinct": len(paths),
        "load": (load0, os.getloadavg()[0]),
        "machine_busy": (busy1 - busy0) / max(total1 - total0, 1),
        "cpu_ms": ours * 1000 / os.sysconf("SC_CLK_TCK") / max(requests, 1),
    }


def wrk_report(results: list[dict], args) -> str:
    by_name = {r["phase"]: r for r in results}
    hello = by_name.get("hello", {}).get("rps")
    lines = [
        f"**wrk run:** {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"{platform.platform()}, Python {platform.python_version()}; gunicorn {args.workers} "
        f"{args.worker_class} workers for the academy and {args.workers} sync workers for the "
        f"FTS5 page, PostgreSQL `{load._database_name(args.database_url)}` "
        f"({args.courses:,} courses); wrk {args.wrk_threads} threads × {args.connections} "
        f"connections × {args.seconds} s per page.",
        "",
        "| page | requests | req/s | p50 ms | p99 ms | errors | distinct paths (wrapped) "
        "| server CPU ms/request | × hello | load avg | machine busy |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        share = f"{r['rps'] / hello:.1%}" if hello else "–"
        lines.append(
            f"| {r['phase']} | {r['requests']:,} | {r['rps']:,.0f} | {r['p50']:,.1f} | "
            f"{r['p99']:,.1f} | {r['errors']} | {r['distinct']:,} ({r['wraps']}) | "
            f"{r['cpu_ms']:.1f} | {share} | {r['load'][0]:.1f}→{r['load'][1]:.1f} | "
            f"{r['machine_busy']:.0%} |"
        )
    ratios = []
    for label, top, bottom, target in (
        ("search, every query new ÷ the FTS5 page", "search-new", "fts5", 3.0),
        ("course page ÷ search, every query new", "course", "search-new", 1.0),
    ):
        if top in by_name and bottom in by_name:
            ratio = by_name[top]["rps"] / by_name[bottom]["rps"]
            by_cpu = by_name[bottom]["cpu_ms"] / max(by_name[top]["cpu_ms"], 1e-9)
            ratios.append(
                f"| {label} | {ratio:.2f}× | {by_cpu:.2f}× | ≥ {target:g}× | "
                f"{'yes' if ratio >= target else 'no'} |"
            )
    if ratios:
        lines += ["", "| ratio | by req/s | by server CPU per request | target | met (req/s)? |",
                  "|---|---|---|---|---|", *ratios]  # fmt: skip
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- in process


def in_process(args, plan: dict[str, list[str]]) -> str:
    """CPU time of this process per request through Flask's test client (no server, no client;
    PostgreSQL's own time not counted), each kind after one warm-up request of that kind.
    Course pages and browse pages are measured twice: the first view of each in this process
    (nothing cached for it yet: what a catalogue change costs the next visitors), then the same
    pages again (what a busy server mostly answers). Each search query is new at first."""
    from academy import create_app

    app = create_app(
        {**load._settings(args.database_url), "SEARCH_SYNC": "off", "BENCHMARK_HELLO": "1"}
    )
    # the request log's JSON lines go where a worker's stderr would (here nowhere); the root
    # handler the migrations' logging configuration added in this process is not a server's
    logging.getLogger().handlers.clear()
    for handler in logging.getLogger("academy").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 (for the whole run)
    client = app.test_client(use_cookies=False)  # each request sends its own Cookie header
    count = args.in_process

    def get(line: str):
        path, _tab, cookie = line.partition("\t")
        response = client.get(path, headers={"Cookie": cookie} if cookie else {})
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
        return response

    def cpu_ms(lines: list[str]) -> tuple[float, float]:
        get(lines[-1])  # this kind's first request pays for what a running worker has open
        started, wall = time.process_time(), time.perf_counter()
        for line in lines:
            get(line)
        return ((time.process_time() - started) * 1000 / len(lines),
                (time.perf_counter() - wall) * 1000 / len(lines))  # fmt: skip

    def cycle(lines: list[str]) -> list[str]:
        return [lines[n % len(lines)] for n in range(count)]

    new = plan["search-new"][: count + 1]
    rows = [
        ("hello", cpu_ms(["/_bench/hello"] * count)),
        ("course page, first view in this process", cpu_ms(plan["course"][: count + 1])),
        ("course page", cpu_ms(plan["course"][:count])),
        ("search, every query new", cpu_ms(new)),
        ("search, repeated", cpu_ms(new[:count])),
        ("browse, first view in this process", cpu_ms(plan["browse"][: count + 1])),
        ("browse", cpu_ms(cycle(plan["browse"]))),
        ("My learning", cpu_ms(cycle(plan["learning"]))),
    ]
    lines = [
        f"**In process:** {count} requests each, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load "
        f"average {os.getloadavg()[0]:.1f}, PostgreSQL `{load._database_name(args.database_url)}`.",
        "",
        "| request | CPU ms/request | wall ms/request | target | met? |",
        "|---|---|---|---|---|",
    ]
    for name, (cpu, wall) in rows:
        target = TARGETS.get(name)
        verdict = "–" if target is None else ("yes" if cpu <= target else "no")
        shown = "–" if target is None else f"≤ {target:g} ms"
        lines.append(f"| {name} | {cpu:.1f} | {wall:.1f} | {shown} | {verdict} |")
    if args.profile:
        lines += ["", profile(client, get, plan, args.profile, count)]
    return "\n".join(lines)


def profile(client, get, plan: dict[str, list[str]], page: str, count: int) -> str:
    """A cProfile of ``count`` requests of one plan ``page`` in CPU time (waiting for the
    database not counted): the costliest calls by cumulative and by own time."""
    import cProfile
    import io
    import pstats

    lines = plan[page]
    if len(lines) > 3 * count:  # new queries, first views: from the end, never asked yet
        paths = lines[-count:]
    else:
        paths = [lines[n % len(lines)] for n in range(count)]
    get(paths[0])
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for path in paths:
        get(path)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    return f"Profile of {count} × {page}:\n```\n{text.getvalue()}\n```"


# ------------------------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_url = os.environ.get("LOAD_DATABASE_URL", load.DEFAULT_DATABASE_URL)
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--courses", type=int, default=load.COURSES)
    parser.add_argument("--phases", default=",".join(PHASES))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=4, help="per gthread worker")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--in-process", type=int, default=200, metavar="N",
                        help="N requests per kind through the test client (0: none)")  # fmt: skip
    parser.add_argument("--profile", choices=("course", "search-new", "browse", "learning"),
                        help="with --in-process: a cProfile of that page")  # fmt: skip
    args = parser.parse_args()
    if not args.database_url.startswith(("postgresql://", "postgres://")):
        raise SystemExit("The page benchmark runs on PostgreSQL: set LOAD_DATABASE_URL.")
    phases = [p for p in args.phases.split(",") if p]
    for phase in phases:
        if phase not in PHASES:
            raise SystemExit(f"Unknown phase {phase!r}; phases are {', '.join(PHASES)}")
    app = load.make_app(args.database_url)
    load.prepare(app, args.courses, load.LEARNERS, 0)
    # enough new queries for 3,000 req/s on every wrk thread, far beyond what the page serves
    plan = make_plan(app, new_queries=max(3000 * args.seconds, args.in_process * 3))
    sections = []
    failed = False
    if phases:
        results = []
        (ROOT / "instance").mkdir(exist_ok=True)
        fts5_file = ROOT / "instance" / f"pages-fts5-{load._database_name(args.database_url)}.db"
        print(f"FTS5 copy built in {build_fts5_file(app, fts5_file):.1f} s", flush=True)
        with (
            tempfile.TemporaryDirectory(prefix="academy-pages-") as tmp,
            load.serving(args.database_url, args.workers, args.threads, args.worker_class)
            as (base, server),
            serving_fts5(fts5_file, args.workers) as (fts5_base, fts5_server),
        ):  # fmt: skip
            for phase in phases:
                on_fts5 = phase == "fts5"
                result = run_wrk(fts5_base if on_fts5 else base, fts5_server if on_fts5 else server,
                                 phase, plan[phase], args, Path(tmp))  # fmt: skip
                results.append(result)
                print(
                    f"{phase}: {result['rps']:,.0f} req/s, p50 {result['p50']:.1f} ms, "
                    f"p99 {result['p99']:.1f} ms, {result['errors']} errors, "
                    f"{result['cpu_ms']:.1f} ms server CPU/request",
                    flush=True,
                )
        sections.append(wrk_report(results, args))
        failed = any(r["errors"] for r in results)
    if args.in_process:
        sections.append(in_process(args, plan))
    text = "\n\n".join(sections)
    (ROOT / "instance").mkdir(exist_ok=True)
    (ROOT / "instance" / "pages-report.md").write_text(text + "\n", encoding="utf-8")
    print("\n" + text)
    if failed:
        print("FAILED: some requests failed (see the errors column)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
