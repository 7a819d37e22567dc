"""Relevance: the judged queries of ``bench/relevance_judgments.yaml`` scored through the real path.

For each catalogue (the public edX and UIUC catalogues in ``../shared/data``, read in place and
never copied, and the seeded demonstration catalogue) a fresh install is made in a temporary
folder: the schema, the taxonomy ``flask seed`` loads, then the courses through the real import
(``flask courses import`` for the public files, ``flask seed`` for the demonstration), the index
through ``flask search sync``. Every judged query is then asked of
``/api/v1/courses?q=…&per_page=5`` and of two anchors over the same rows in the same run:

- plain Whoosh BM25F: one stemmed field per column, ``MultifieldParser`` as it comes (its own
  query syntax, every word required);
- SQLite FTS5: porter tokenizer, ``bm25()`` with the same column weights, every word required.

Printed per query and in total: nDCG@5, reciprocal rank (MRR), and false hits (results graded 0
or not judged; on a query with no answer every result is one). Held-out queries are reported
apart.

    .venv/bin/python bench/relevance.py [--catalogues edx,uiuc,seed] [--quiet]
    .venv/bin/python bench/relevance.py --pool edx "machine learning"   # candidates to judge
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import re
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
JUDGMENTS = Path(__file__).with_name("relevance_judgments.yaml")
CUTOFF = 5
COLUMN_WEIGHTS = (4.0, 2.0, 1.0)  # title, summary, body: the anchors' field weights
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# -- the judged set --------------------------------------------------------------------------
@dataclass(frozen=True)
class Judged:
    """One judged query: grades by course key (2 right on, 1 useful, 0 or absent not useful)."""

    q: str
    catalogue: str
    split: str  # "tune" or "held-out"
    grades: dict[str, int]
    note: str = ""

    @property
    def no_answer(self) -> bool:
        return not any(grade > 0 for grade in self.grades.values())


def load_judgments(path: Path = JUDGMENTS) -> list[Judged]:
    """The judged queries (see the file's header for the rules the judge followed)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for entry in data["queries"]:
        grades = {str(key): int(value) for key, value in (entry.get("grades") or {}).items()}
        out.append(Judged(str(entry["q"]), entry["catalogue"], entry.get("split", "tune"),
                          grades, entry.get("note", "")))  # fmt: skip
    return out


# -- the measures ----------------------------------------------------------------------------
def ndcg(found: list[str], grades: dict[str, int], cutoff: int = CUTOFF) -> float | None:
    """nDCG@cutoff with gain 2^grade - 1; ``None`` for a query with no answer."""
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:cutoff]
    if not ideal:
        return None

    def dcg(gains: Iterable[int]) -> float:
        return sum((2**g - 1) / math.log2(rank + 2) for rank, g in enumerate(gains))

    return dcg(grades.get(key, 0) for key in found[:cutoff]) / dcg(ideal)


def reciprocal_rank(found: list[str], grades: dict[str, int], cutoff: int = CUTOFF) -> float | None:
    """1 / the rank of the first result graded 1 or 2; ``None`` for a query with no answer."""
    if not any(g > 0 for g in grades.values()):
        return None
    for rank, key in enumerate(found[:cutoff], start=1):
        if grades.get(key, 0) > 0:
            return 1 / rank
    return 0.0


def false_hits(found: list[str], grades: dict[str, int], cutoff: int = CUTOFF) -> int:
    """Results in the first ``cutoff`` graded 0 or not judged."""
    return sum(1 for key in found[:cutoff] if grades.get(key, 0) == 0)


@dataclass
class Totals:
    ndcgs: list[float] = field(default_factory=list)
    rrs: list[float] = field(default_factory=list)
    false_hits: int = 0
    no_answer_results: int = 0
    queries: int = 0

    def add(self, judged: Judged, found: list[str]) -> tuple[float | None, float | None, int]:
        n, rr, fh = ndcg(found, judged.grades), reciprocal_rank(found, judged.grades), 0
        fh = false_hits(found, judged.grades)
        self.queries += 1
        self.false_hits += fh
        if n is None:
            self.no_answer_results += len(found[:CUTOFF])
        else:
            self.ndcgs.append(n)
            self.rrs.append(rr or 0.0)
        return n, rr, fh

    @property
    def ndcg(self) -> float:
        return sum(self.ndcgs) / len(self.ndcgs) if self.ndcgs else 0.0

    @property
    def mrr(self) -> float:
        return sum(self.rrs) / len(self.rrs) if self.rrs else 0.0

    def line(self) -> str:
        return (f"nDCG@5 {self.ndcg:.3f}  MRR {self.mrr:.3f}  false hits {self.false_hits:3d}  "
                f"no-answer results {self.no_answer_results}")  # fmt: skip


# -- the catalogues as template CSV files ------------------------------------------------------
EDX_STEPS = {"Introductory": "0", "Intermediate": "2", "Advanced": "3"}
TEMPLATE = ["reference", "title", "summary", "description", "step", "url", "cost", "status"]


def edx_reference(row: dict[str, str]) -> str:
    """As ``tests/test_import_edx.py`` makes it: readable, unique, at most 80 characters."""
    from slugify import slugify

    text = f"{row['title']} {row['institution']}"
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]  # nosec B324  # a name, not security
    return f"{slugify(text, max_length=60, word_boundary=True)}-{digest}"


def edx_rows() -> tuple[list[dict[str, str]], dict[str, str]]:
    """The edX catalogue in the template, and each reference's source id (``edx-0001``…)."""
    with (SHARED / "edx_courses.csv").open(encoding="utf-8", newline="") as handle:
        source = list(csv.DictReader(handle))
    rows, keys = [], {}
    for row in source:
        reference = edx_reference(row)
        keys.setdefault(reference, row["id"])
        rows.append({
            "reference": reference, "title": row["title"],
            "summary": "" if row["summary"] == "NA" else row["summary"],
            "description": row["course_description"],
            "step": EDX_STEPS.get(row["Level"], "1"), "url": row["course_url"],
            "cost": "free" if row["price"].upper().startswith("FREE") else "funded",
            "status": "published",
        })  # fmt: skip
    return rows, keys


def uiuc_rows() -> tuple[list[dict[str, str]], dict[str, str]]:
    """The UIUC catalogue, one course per subject and number (its latest section's text); the
    step from the course number (100s introductory … 500s and above advanced)."""
    latest: dict[str, dict[str, str]] = {}
    with (SHARED / "uiuc_courses.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = f"{row['Subject']}-{row['Number']}"
            if key not in latest or row["YearTerm"] >= latest[key]["YearTerm"]:
                latest[key] = row
    rows, keys = [], {}
    for key, row in sorted(latest.items()):
        number = int(re.sub(r"\D", "", row["Number"]) or 0)
        step = "0" if number < 200 else "1" if number < 300 else "2" if number < 500 else "3"
        rows.append({
            "reference": key, "title": row["Name"], "summary": "",
            "description": row["Description"], "step": step, "url": "", "cost": "funded",
            "status": "published",
        })  # fmt: skip
        keys[key] = key
    return rows, keys


# -- a fresh install -------------------------------------------------------------------------
class Install:
    """A fresh install in ``folder`` with one catalogue imported and indexed."""

    def __init__(self, folder: Path, catalogue: str) -> None:
        from academy import create_app
        from academy.extensions import db

        self.folder = folder
        self.app = create_app({
            "DATABASE_URL": f"sqlite:///{folder}/academy.sqlite3", "SECRET_KEY": "relevance",
            "SEARCH_INDEX_DIR": str(folder / "index"), "SEARCH_SYNC": "off",
            "RATE_LIMITS_ENABLED": False, "REQUEST_LOG": False, "SEARCH_CACHE_SIZE": 0,
        })  # fmt: skip
        runner = self.app.test_cli_runner()
        with self.app.app_context():
            db.create_all()
        self.keys: dict[str, str] = {}  # course reference -> judged key
        if catalogue == "seed":
            self._invoke(runner, ["seed"])
        else:
            with self.app.app_context():
                from academy.seeding import seed_taxonomy

                seed_taxonomy(Path(self.app.config["SEED_DIR"]))
                db.session.commit()
            rows, self.keys = edx_rows() if catalogue == "edx" else uiuc_rows()
            path = folder / f"{catalogue}.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, TEMPLATE)
                writer.writeheader()
                writer.writerows(rows)
            self._invoke(runner, ["courses", "import", str(path), "--provider", catalogue,
                                  "--create-provider", catalogue])  # fmt: skip
            self._approve_all(catalogue)
        self._invoke(runner, ["search", "sync"])
        with self.app.app_context():
            from sqlalchemy import text

            found = db.session.execute(text(
                "SELECT id, reference, title, summary, description FROM courses "
                "WHERE status = 'published'"
            )).all()  # fmt: skip
        self.rows = {row.id: row for row in found}
        self.key_of = {row.id: self.keys.get(row.reference, row.reference) for row in found}
        self.client = self.app.test_client()

    def _approve_all(self, catalogue: str) -> None:
        """An import waits for review: a curator verifies the organisation and approves every
        imported course in one bulk decision, as the review queue does."""
        from academy.accounts.services import create_user
        from academy.curation import services as curation
        from academy.extensions import db
        from academy.providers.models import Provider

        with self.app.app_context():
            curator = create_user("Relevance Curator", f"curator@{catalogue}.example",
                                  "relevance-curator-pw", confirmed=True, curator=True)  # fmt: skip
            provider = db.session.scalars(db.select(Provider)).one()
            curation.verify_provider(curator, provider)
            curation.bulk_decide(curator, "approve", None)
            db.session.commit()

    @staticmethod
    def _invoke(runner, args: list[str]) -> None:
        result = runner.invoke(args=args)
        if result.exit_code != 0:
            raise SystemExit(f"flask {' '.join(args)} failed:\n{result.output}")

    def api(self, q: str, per_page: int = CUTOFF) -> list[str]:
        """The judged keys of the API's first page for ``q``."""
        response = self.client.get("/api/v1/courses", query_string={"q": q, "per_page": per_page})
        if response.status_code != 200:
            raise AssertionError(f"{q!r}: HTTP {response.status_code}")
        return [self.key_of[item["id"]] for item in response.get_json()["results"]]


# -- the anchors -----------------------------------------------------------------------------
class PlainWhoosh:
    """Whoosh as it comes: a stemmed field per column, BM25F, ``MultifieldParser``."""

    def __init__(self, install: Install) -> None:
        from whoosh import index as whoosh_index
        from whoosh.analysis import StemmingAnalyzer
        from whoosh.fields import ID, TEXT, Schema
        from whoosh.qparser import MultifieldParser

        folder = install.folder / "plain-whoosh"
        folder.mkdir()
        analyzer = StemmingAnalyzer()
        schema = Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=analyzer),
                        summary=TEXT(analyzer=analyzer), body=TEXT(analyzer=analyzer))  # fmt: skip
        self.index = whoosh_index.create_in(str(folder), schema)
        writer = self.index.writer()
        for row in install.rows.values():
            writer.add_document(id=str(row.id), title=row.title, summary=row.summary,
                                body=row.description)  # fmt: skip
        writer.commit()
        boosts = dict(zip(("title", "summary", "body"), COLUMN_WEIGHTS, strict=True))
        self.parser = MultifieldParser(["title", "summary", "body"], schema, fieldboosts=boosts)
        self.key_of = install.key_of

    def search(self, q: str, limit: int = CUTOFF) -> list[str]:
        with self.index.searcher() as searcher:
            hits = searcher.search(self.parser.parse(q), limit=limit)
            return [self.key_of[int(hit["id"])] for hit in hits]


class Fts5:
    """SQLite FTS5 as it comes: porter tokenizer, ``bm25()``, every word required."""

    def __init__(self, install: Install) -> None:
        self.conn = sqlite3.connect(":memory:")
        self.conn.execute("CREATE VIRTUAL TABLE fts USING fts5(title, summary, body, "
                          "tokenize='porter unicode61 remove_diacritics 2')")  # fmt: skip
        self.conn.executemany(
            "INSERT INTO fts(rowid, title, summary, body) VALUES (?, ?, ?, ?)",
            [(r.id, r.title, r.summary, r.description) for r in install.rows.values()],
        )
        self.key_of = install.key_of

    def search(self, q: str, limit: int = CUTOFF) -> list[str]:
        # FTS5's own syntax errors on most punctuation: quoted phrases are kept, words quoted
        phrases = re.findall(r'"([^"]+)"', q)
        rest = re.sub(r'"[^"]*"?', " ", q)
        parts = [f'"{p.replace(chr(34), "")}"' for p in phrases]
        parts += [f'"{w}"' for w in re.findall(r"\w+", rest) if w not in ("AND", "OR", "NOT")]
        if not parts:
            return []
        weights = ", ".join(str(w) for w in COLUMN_WEIGHTS)
        rows = self.conn.execute(
            f"SELECT rowid FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, {weights}) LIMIT ?",
            (" ".join(parts), limit),
        ).fetchall()
        return [self.key_of[row[0]] for row in rows]


# -- the run ---------------------------------------------------------------------------------
SYSTEMS = ("academy", "whoosh", "fts5")


def evaluate(
    judged: list[Judged],
    searchers: dict[str, Callable[[str], list[str]]],
    report: Callable[[str], None] | None = None,
) -> dict[tuple[str, str], Totals]:
    """Score each system on each query; totals by (system, split) and (system, "all")."""
    totals: dict[tuple[str, str], Totals] = {}
    for item in judged:
        cells = []
        for system, search in searchers.items():
            found = search(item.q)
            n, rr, fh = Totals().add(item, found)
            for split in (item.split, "all"):
                totals.setdefault((system, split), Totals()).add(item, found)
            shown = "   -  " if n is None else f"{n:.3f}"
            cells.append(f"{shown} {0 if rr is None else rr:.2f} {fh}")
        if report:
            flag = "H" if item.split == "held-out" else " "
            name = item.q if len(item.q) <= 38 else item.q[:37] + "…"
            report(f"{item.catalogue:4} {flag} {name:38} | " + " | ".join(cells))
    return totals


def run(catalogues: list[str], quiet: bool = False) -> dict[str, dict[tuple[str, str], Totals]]:
    judged = load_judgments()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for catalogue in catalogues:
            mine = [item for item in judged if item.catalogue == catalogue]
            if not mine:
                continue
            folder = Path(tmp) / catalogue
            folder.mkdir()
            install = Install(folder, catalogue)
            searchers = {"academy": install.api, "whoosh": PlainWhoosh(install).search,
                         "fts5": Fts5(install).search}  # fmt: skip
            print(f"\n## {catalogue}: {len(install.rows)} courses, {len(mine)} judged queries "
                  f"({sum(i.no_answer for i in mine)} with no answer)")  # fmt: skip
            if not quiet:
                print(f"{'':6} {'query':38} | " + " | ".join(f"{s:^13}" for s in SYSTEMS))
            with install.app.app_context():
                results[catalogue] = evaluate(mine, searchers, None if quiet else print)
    print("\n## Totals (nDCG@5 and MRR over queries with an answer; false hits over all)")
    for scope in ("tune", "held-out", "all"):
        for system in SYSTEMS:
            merged = Totals()
            for totals in results.values():
                part = totals.get((system, scope))
                if part:
                    merged.ndcgs += part.ndcgs
                    merged.rrs += part.rrs
                    merged.false_hits += part.false_hits
                    merged.no_answer_results += part.no_answer_results
                    merged.queries += part.queries
            print(f"{scope:8} {system:8} {merged.queries:3d} queries  {merged.line()}")
    for catalogue, totals in results.items():
        for scope in ("held-out", "all"):
            for system in SYSTEMS:
                part = totals.get((system, scope))
                if part:
                    print(f"{catalogue:4} {scope:8} {system:8} {part.queries:3d} queries  "
                          f"{part.line()}")  # fmt: skip
    return results


def pool(catalogue: str, queries: list[str], depth: int = 10) -> None:
    """Print the candidates a judge should read for each of ``queries``: the union of every
    system's first ``depth`` results (titles and summaries; read the full text where unsure)."""
    with tempfile.TemporaryDirectory() as tmp:
        install = Install(Path(tmp), catalogue)
        by_key = {install.key_of[i]: row for i, row in install.rows.items()}
        whoosh, fts5 = PlainWhoosh(install), Fts5(install)
        with install.app.app_context():
            for q in queries:
                seen: dict[str, set[str]] = {}
                for name, found in (("a", install.api(q, 10)), ("w", whoosh.search(q, depth)),
                                    ("f", fts5.search(q, depth))):  # fmt: skip
                    for key in found:
                        seen.setdefault(key, set()).add(name)
                print(f"\n### {q}")
                for key, names in seen.items():
                    row = by_key[key]
                    print(f"{key} [{''.join(sorted(names))}] {row.title} :: {row.summary[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogues", default="edx,uiuc,seed")
    parser.add_argument("--quiet", action="store_true", help="totals only")
    parser.add_argument(
        "--pool",
        nargs="+",
        metavar=("CATALOGUE", "QUERY"),
        help="print candidates to judge for these queries",
    )
    args = parser.parse_args()
    if args.pool:
        pool(args.pool[0], args.pool[1:])
        return
    run(args.catalogues.split(","), args.quiet)


if __name__ == "__main__":
    main()
