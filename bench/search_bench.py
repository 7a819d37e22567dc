"""Search benchmark: synthetic catalogues of 1k, 10k and 100k courses (fixed seed).

For each size it reports the index build time and latency p50/p95 of:
- plain: ranking the text alone (Whoosh) / ``MATCH … ORDER BY rank`` (FTS5);
- full: what /courses?q=… does — ranking, visibility, total, a page of 20, facet counts for
  step, sector, profession, delivery mode, region, programme, free and weeks, and highlights;
- full+filters: the same with a sector and a step filter.
The FTS5 baseline is a minimal SQLite FTS5 implementation over the same rows, measured in the
same run. Every query is distinct (no answer is reused). Usage:

    .venv/bin/python bench/search_bench.py [--sizes 1000,10000,100000] [--queries 200]
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from academy import create_app  # noqa: E402
from academy.catalogue.browse import Filters, browse, load_terms  # noqa: E402
from academy.catalogue.models import (  # noqa: E402
    Cohort,
    CohortSession,
    Course,
    course_professions,
    course_sectors,
)
from academy.extensions import db  # noqa: E402
from academy.providers.models import Provider  # noqa: E402
from academy.search import get_store, indexer, match_text  # noqa: E402
from academy.seeding import seed_taxonomy  # noqa: E402
from academy.taxonomy.models import TERM_MODELS  # noqa: E402

SEED = 20261125


class Corpus:
    """Real text to build synthetic courses from: the seed catalogue's courses and, when present
    beside the project, the public catalogues in ``../shared/data`` (read in place, never copied).

    Courses are assembled from real titles and real sentences, so word frequencies and the spread
    of topics are those of real catalogues rather than of a small repeated vocabulary.
    """

    def __init__(self) -> None:
        import csv
        import re

        import yaml
        from whoosh.analysis import STOP_WORDS

        self.titles: list[str] = []
        self.sentences: list[str] = []
        texts: list[tuple[str, str]] = []
        for path in sorted((ROOT / "seed" / "courses").glob("*.yaml")):
            for course in yaml.safe_load(path.read_text())["courses"]:
                texts.append((course["title"], f"{course.get('summary', '')} "
                              f"{course.get('description', '')}"))  # fmt: skip
        shared = ROOT.parent / "shared" / "data"
        sources = (("edx_courses.csv", "title", ("summary", "course_description")),
                   ("uiuc_courses.csv", "Name", ("Description",)))  # fmt: skip
        for name, title_column, text_columns in sources:
            if (shared / name).exists():
                with (shared / name).open(encoding="utf-8", newline="") as handle:
                    for row in csv.DictReader(handle):
                        texts.append((row[title_column], " ".join(row[c] for c in text_columns)))
        seen_titles: set[str] = set()
        for title, body in texts:
            title = " ".join(title.split())
            if title and title not in seen_titles:
                seen_titles.add(title)
                self.titles.append(title)
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(body.split())):
                if 20 <= len(sentence) <= 400 and sentence != "NA":
                    self.sentences.append(sentence)
        words = {w.lower() for t in self.titles for w in re.findall(r"[A-Za-z]{4,}", t)}
        self.query_words = sorted(words - set(STOP_WORDS))


def build_catalogue(size: int, corpus: Corpus) -> None:
    rng = random.Random(SEED + size)
    words = [w for t in corpus.titles[:2000] for w in t.split()]
    seed_taxonomy(ROOT / "seed")
    terms = {kind: list(db.session.scalars(select(model))) for kind, model in TERM_MODELS.items()}
    db.session.execute(
        insert(Provider),
        [{"slug": f"provider-{n}", "name": f"{' '.join(rng.sample(words, 2))} Trust",
          "description": ""} for n in range(max(15, size // 200))],
    )  # fmt: skip
    provider_ids = list(db.session.scalars(select(Provider.id)))
    now = datetime.now(UTC)
    rows = []
    for n in range(size):
        rows.append(
            {
                "slug": f"course-{n}",
                "provider_id": rng.choice(provider_ids),
                "reference": f"REF-{n}",
                "title": rng.choice(corpus.titles)[:250],
                "summary": rng.choice(corpus.sentences),
                "description": " ".join(rng.sample(corpus.sentences, rng.randint(2, 5))),
                "who_its_for": "",
                "entry_requirements": "",
                "where_next": "",
                "step_id": rng.choice(terms["steps"]).id,
                "delivery_mode_id": rng.choice(terms["delivery_modes"]).id,
                "region_id": rng.choice(terms["regions"]).id,
                "cost_type": rng.choice(["free", "funded", "fee"]),
                "fee_pence": None,
                "status": "published" if rng.random() < 0.95 else "draft",
                "published_at": now,
                "lived_experience_codelivery": False,
            }
        )
        if rows[-1]["cost_type"] == "fee":
            rows[-1]["fee_pence"] = rng.randint(50, 2000) * 100
    for start in range(0, size, 5000):
        db.session.execute(insert(Course), rows[start : start + 5000])
    course_ids = list(db.session.scalars(select(Course.id)))
    sector_links, profession_links, cohorts = [], [], []
    for course_id in course_ids:
        for sector in rng.sample(terms["sectors"], rng.randint(0, 2)):
            sector_links.append({"course_id": course_id, "sector_id": sector.id})
        for profession in rng.sample(terms["professions"], rng.randint(0, 2)):
            profession_links.append({"course_id": course_id, "profession_id": profession.id})
        if rng.random() < 0.3:
            cohorts.append({"course_id": course_id, "capacity": 20, "seats_taken": 0,
                            "is_online": True})  # fmt: skip
    for table, links in ((course_sectors, sector_links), (course_professions, profession_links)):
        for start in range(0, len(links), 5000):
            db.session.execute(insert(table), links[start : start + 5000])
    if cohorts:
        db.session.execute(insert(Cohort), cohorts)
        sessions = []
        for cohort_id in db.session.scalars(select(Cohort.id)):
            starts = now + timedelta(days=rng.randint(-30, 300))
            sessions.append({"cohort_id": cohort_id, "starts_at": starts,
                             "ends_at": starts + timedelta(hours=6)})  # fmt: skip
        for start in range(0, len(sessions), 5000):
            db.session.execute(insert(CohortSession), sessions[start : start + 5000])
    db.session.commit()


def build_fts5() -> float:
    started = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(text(
            "CREATE VIRTUAL TABLE fts USING fts5(title, summary, body, "
            "tokenize='porter unicode61 remove_diacritics 2')"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO fts(rowid, title, summary, body) "
            "SELECT id, title, summary, description FROM courses WHERE status = 'published'"
        ))  # fmt: skip
    return time.perf_counter() - started


def fts_query(words: list[str]) -> str:
    return " OR ".join(f'"{w}"' for w in words)


FTS_MATCH = "SELECT rowid AS id, bm25(fts, 4.0, 2.0, 1.0) AS score FROM fts WHERE fts MATCH :q"


def fts_plain(conn, words: list[str]) -> None:
    conn.execute(text(FTS_MATCH + " ORDER BY score LIMIT 20"), {"q": fts_query(words)}).all()


def fts_full(conn, words: list[str], sector_id: int | None, step_id: int | None) -> None:
    """The same work as the full search, the minimal FTS5 way: match once into a temporary
    table, then count, page, facet and snippet from it."""
    where = "c.status = 'published'"
    params: dict[str, object] = {}
    if step_id:
        where += " AND c.step_id = :step"
        params["step"] = step_id
    if sector_id:
        where += (" AND (EXISTS (SELECT 1 FROM course_sectors s WHERE s.course_id = c.id AND "
                  "s.sector_id = :sector) OR NOT EXISTS (SELECT 1 FROM course_sectors s "
                  "WHERE s.course_id = c.id))")  # fmt: skip
        params["sector"] = sector_id
    q = fts_query(words)
    conn.execute(text("DROP TABLE IF EXISTS temp.m"))
    conn.execute(text(f"CREATE TEMP TABLE m AS {FTS_MATCH}"), {"q": q})
    base = "SELECT {cols} FROM temp.m JOIN courses c ON c.id = m.id"
    conn.execute(text(base.format(cols="count(*)") + f" WHERE {where}"), params).all()
    page = conn.execute(
        text(base.format(cols="c.id") + f" WHERE {where} ORDER BY m.score LIMIT 20"), params
    ).all()
    for column in ("c.step_id", "c.delivery_mode_id", "c.region_id", "c.cost_type"):
        conn.execute(text(base.format(cols=f"{column}, count(*)") + f" WHERE {where} "
                          f"GROUP BY {column}"), params).all()  # fmt: skip
    for table, column in (("course_sectors", "sector_id"), ("course_professions", "profession_id")):
        conn.execute(text(base.format(cols=f"t.{column}, count(*)") + f" JOIN {table} t ON "
                          f"t.course_id = c.id WHERE {where} GROUP BY t.{column}"),
                     params).all()  # fmt: skip
    ids = ",".join(str(row.id) for row in page) or "0"
    conn.execute(text(
        "SELECT rowid, snippet(fts, 1, '<mark>', '</mark>', '…', 20) FROM fts "
        f"WHERE fts MATCH :q AND rowid IN ({ids})"
    ), {"q": q}).all()  # fmt: skip
    conn.execute(text("DROP TABLE temp.m"))


def plain_whoosh_build(folder: str) -> float:
    """A plain single-writer Whoosh build of the same courses: one stemmed text field, the
    default writer. The yardstick for the rebuild target."""
    from whoosh import index as whoosh_index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    started = time.perf_counter()
    schema = Schema(id=ID(stored=True, unique=True), text=TEXT(analyzer=StemmingAnalyzer()))
    Path(folder).mkdir()
    writer = whoosh_index.create_in(folder, schema).writer()
    with db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, title, summary, description FROM courses WHERE status = 'published'"
        ))  # fmt: skip
        for row in rows:
            writer.add_document(id=str(row.id), text=f"{row.title} {row.summary} {row.description}")
    writer.commit()
    return time.perf_counter() - started


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


def timed(fn, *args) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def run(size: int, queries: int, corpus: Corpus, procs: int, out: list[str]) -> None:
    query_words = corpus.query_words
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "SECRET_KEY": "bench",
            "SEARCH_INDEX_DIR": f"{tmp}/index", "SEARCH_SYNC": "off",
        })  # fmt: skip
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            build_catalogue(size, corpus)
            generated = time.perf_counter() - started
            store = get_store()
            rebuild_seconds = timed(indexer.rebuild, store, db.engine)
            parallel_seconds = None
            if procs > 1:
                parallel_seconds = timed(lambda: indexer.rebuild(store, db.engine, procs=procs))
            fts_seconds = build_fts5()
            plain_seconds = plain_whoosh_build(f"{tmp}/plain-index")
            rng = random.Random(SEED)
            sectors = [s.id for s in db.session.scalars(select(TERM_MODELS["sectors"]))]
            steps = [s.id for s in db.session.scalars(select(TERM_MODELS["steps"]))]
            sector_slugs = {
                s.id: s.slug for s in db.session.scalars(select(TERM_MODELS["sectors"]))
            }
            step_slugs = {s.id: s.slug for s in db.session.scalars(select(TERM_MODELS["steps"]))}
            seen: set[tuple[str, ...]] = set()
            cases = []
            while len(cases) < queries:
                q = tuple(rng.sample(query_words, rng.randint(1, 3)))
                if q not in seen:
                    seen.add(q)
                    cases.append((list(q), rng.choice(sectors), rng.choice(steps)))
            terms = load_terms()
            results = {k: [] for k in ("w_plain", "w_full", "w_filtered", "f_plain", "f_full",
                                       "f_filtered")}  # fmt: skip
            match_text(store, "warm up")  # open the searcher once, as a running server has
            with db.engine.connect() as conn:
                for q_words, sector_id, step_id in cases:
                    q = " ".join(q_words)
                    results["w_plain"].append(timed(match_text, store, q))
                    results["w_full"].append(timed(browse, Filters(q=q, sort="relevance"), terms))
                    results["w_filtered"].append(timed(browse, Filters(
                        q=q, sort="relevance", sector=sector_slugs[sector_id],
                        step=step_slugs[step_id]), terms))  # fmt: skip
                    db.session.rollback()
                    results["f_plain"].append(timed(fts_plain, conn, q_words))
                    results["f_full"].append(timed(fts_full, conn, q_words, None, None))
                    results["f_filtered"].append(timed(fts_full, conn, q_words, sector_id, step_id))
            store.close()
        line = [
            f"| {size:,} | data {generated:.1f} s | plain single-writer Whoosh build "
            f"{plain_seconds:.1f} s | our rebuild {rebuild_seconds:.1f} s"
        ]
        if parallel_seconds is not None:
            line.append(f"(procs={procs}: {parallel_seconds:.1f} s)")
        line.append(f"| FTS5 build {fts_seconds:.1f} s |")
        out.append(" ".join(line))
        for label, w, f in (("plain", "w_plain", "f_plain"), ("full", "w_full", "f_full"),
                            ("full+filters", "w_filtered", "f_filtered")):  # fmt: skip
            wp50, wp95 = percentiles(results[w])
            fp50, fp95 = percentiles(results[f])
            out.append(
                f"|   {label} | Whoosh p50 {wp50:.1f} ms, p95 {wp95:.1f} ms | FTS5 p50 "
                f"{fp50:.1f} ms, p95 {fp95:.1f} ms | ratio p50 {wp50 / fp50:.1f}× |"
            )
        print("\n".join(out[-4:]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    corpus = Corpus()
    out: list[str] = []
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
          f"Python {platform.python_version()}, {args.queries} distinct queries per size, "
          f"text from {len(corpus.titles):,} real titles and {len(corpus.sentences):,} sentences",
          flush=True)  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.queries, corpus, args.procs, out)


if __name__ == "__main__":
    main()
