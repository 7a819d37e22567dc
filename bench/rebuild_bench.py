"""Rebuild benchmark: ``indexer.rebuild`` of the synthetic catalogue of ``search_bench.py``.

The catalogue (same fixed seed, 5% drafts) is built once into a SQLite file under ``--cache``
and reused by later runs, so repeated measurements time the rebuild alone. Usage:

    .venv/bin/python bench/rebuild_bench.py [--size 100000] [--procs 2] [--runs 1]
        [--cache /tmp/academy-rebuild-bench] [--profile out.prof]

Each run prints its wall time and its CPU time (this process and the forked writers), which
depends far less on what else the machine runs. ``--profile`` runs one rebuild in one process
under cProfile and writes the statistics there.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_bench import Corpus, build_catalogue  # noqa: E402

from academy import create_app  # noqa: E402
from academy.extensions import db  # noqa: E402
from academy.search import get_store, indexer  # noqa: E402


def catalogue_file(cache: Path, size: int) -> Path:
    """The SQLite file of the ``size``-course catalogue, built on first use."""
    path = cache / f"catalogue-{size}.sqlite3"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    app = create_app({"DATABASE_URL": f"sqlite:///{partial}", "SECRET_KEY": "bench",
                      "SEARCH_INDEX_DIR": str(cache / "index"), "SEARCH_SYNC": "off"})  # fmt: skip
    with app.app_context():
        db.create_all()
        started = time.perf_counter()
        build_catalogue(size, Corpus())
        print(f"catalogue of {size:,} built in {time.perf_counter() - started:.1f} s", flush=True)
        db.engine.dispose()
    partial.rename(path)
    return path


def _cpu_seconds() -> float:
    """User and system CPU time of this process and its finished children (the forked writers):
    the work done, whatever else the machine is running."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    default_cache = Path(tempfile.gettempdir()) / "academy-rebuild-bench"
    parser.add_argument("--cache", default=str(default_cache))
    parser.add_argument("--profile", help="profile one single-process rebuild into this file")
    args = parser.parse_args()
    source = catalogue_file(Path(args.cache), args.size)
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
          f"Python {platform.python_version()}, {os.cpu_count()} cores", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "catalogue.sqlite3"
        shutil.copyfile(source, database)  # the outbox and positions change: keep the cache clean
        app = create_app({"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench",
                          "SEARCH_INDEX_DIR": f"{tmp}/index", "SEARCH_SYNC": "off"})  # fmt: skip
        with app.app_context():
            store = get_store()
            if args.profile:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
                indexer.rebuild(store, db.engine, procs=1)
                profiler.disable()
                profiler.dump_stats(args.profile)
                print(f"profile written to {args.profile}")
                return
            for run in range(args.runs):
                load = os.getloadavg()
                cpu = _cpu_seconds()
                started = time.perf_counter()
                report = indexer.rebuild(store, db.engine, procs=args.procs)
                seconds = time.perf_counter() - started
                cpu = _cpu_seconds() - cpu
                print(f"run {run + 1}: rebuild of {report.indexed:,} public courses "
                      f"(of {args.size:,}), procs={args.procs}: {seconds:.1f} s, CPU {cpu:.1f} s "
                      f"(load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})",
                      flush=True)  # fmt: skip
            store.close()


if __name__ == "__main__":
    main()
