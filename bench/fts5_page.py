"""The yardstick of ``make bench-pages``: a minimal Flask + SQLite FTS5 search page.

It does what the issue's "minimal FTS5 page" does, over the same courses as the real catalogue
(copied from PostgreSQL into one SQLite file by ``build``): match the words once into a
temporary table, count, a page of 20 in BM25 order with provider names, three facets (step,
sector, region) with term names, and a snippet of each result's title and summary, rendered by
one small Jinja template (autoescaped). No cache, no ORM. The same query ranking and SQL as the
FTS5 baseline of ``bench/search_bench.py`` (``FTS_MATCH``, ``fts_query``).

Served by gunicorn as ``fts5_page:app`` from the ``bench`` folder, with ``FTS5_PAGE_DB`` naming
the SQLite file.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from pathlib import Path

from flask import Flask, render_template_string, request

MATCH = "SELECT rowid AS id, bm25(fts, 4.0, 2.0, 1.0) AS score FROM fts WHERE fts MATCH :q"
WORD = re.compile(r"\w+")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ q }}: courses</title></head>
<body><main>
<h1>Courses matching “{{ q }}”</h1>
<p>{{ total }} course{{ '' if total == 1 else 's' }}</p>
<form method="get" action="/fts5">
  <label for="q">Search</label><input id="q" name="q" value="{{ q }}">
  {% for label, values in facets %}
  <fieldset><legend>{{ label }}</legend><ul>
    {% for name, count in values %}<li>{{ name }} ({{ count }})</li>{% endfor %}
  </ul></fieldset>
  {% endfor %}
</form>
<ol>
{% for row in results %}
  <li><h2><a href="/courses/{{ row.slug }}">{{ row.title|safe }}</a></h2>
    <p>{{ row.provider }}</p><p>{{ row.summary|safe }}</p></li>
{% endfor %}
</ol>
</main></body></html>"""


def build(target: Path, rows: dict[str, list[tuple]]) -> None:
    """Write the SQLite file ``target`` from ``rows`` (table -> rows, as read from the real
    catalogue: public courses, their sectors, providers and the three facets' terms) and index
    the courses' title, summary and description with FTS5."""
    target.unlink(missing_ok=True)
    conn = sqlite3.connect(target)
    conn.executescript(
        """
        CREATE TABLE courses (id INTEGER PRIMARY KEY, slug TEXT, title TEXT, summary TEXT,
            description TEXT, provider_id INTEGER, step_id INTEGER, region_id INTEGER);
        CREATE TABLE course_sectors (course_id INTEGER, sector_id INTEGER,
            PRIMARY KEY (course_id, sector_id));
        CREATE TABLE providers (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE steps (id INTEGER PRIMARY KEY, name TEXT, position INTEGER);
        CREATE TABLE sectors (id INTEGER PRIMARY KEY, name TEXT, position INTEGER);
        CREATE TABLE regions (id INTEGER PRIMARY KEY, name TEXT, position INTEGER);
        CREATE VIRTUAL TABLE fts USING fts5(title, summary, body,
            tokenize='porter unicode61 remove_diacritics 2');
        """
    )
    for table, values in rows.items():
        if values:
            marks = ", ".join("?" * len(values[0]))
            conn.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    conn.execute(
        "INSERT INTO fts(rowid, title, summary, body) SELECT id, title, summary, description "
        "FROM courses"
    )
    conn.commit()
    conn.close()


_local = threading.local()


def _connection() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(os.environ["FTS5_PAGE_DB"])
        conn.row_factory = sqlite3.Row
    return conn


def search(q: str) -> dict:
    """Everything the page shows for ``q``."""
    words = WORD.findall(q)[:8]
    if not words:
        return {"q": q, "total": 0, "facets": [], "results": []}
    match = " OR ".join(f'"{w}"' for w in words)
    conn = _connection()
    conn.execute("DROP TABLE IF EXISTS temp.m")
    conn.execute(f"CREATE TEMP TABLE m AS {MATCH}", {"q": match})
    total = conn.execute("SELECT count(*) FROM temp.m").fetchone()[0]
    page = conn.execute(
        "SELECT c.id, c.slug, p.name AS provider FROM temp.m JOIN courses c ON c.id = m.id "
        "JOIN providers p ON p.id = c.provider_id ORDER BY m.score LIMIT 20"
    ).fetchall()
    facets = []
    for label, table, column, join in (
        ("Step", "steps", "c.step_id", ""),
        ("Sector", "sectors", "s.sector_id", "JOIN course_sectors s ON s.course_id = c.id"),
        ("Region", "regions", "c.region_id", ""),
    ):
        facets.append(
            (
                label,
                conn.execute(
                    f"SELECT t.name, count(*) FROM temp.m JOIN courses c ON c.id = m.id {join} "
                    f"JOIN {table} t ON t.id = {column} GROUP BY t.id ORDER BY t.position"
                ).fetchall(),
            )
        )
    ids = ",".join(str(row["id"]) for row in page) or "0"
    snippets = {
        row[0]: (row[1], row[2])
        for row in conn.execute(
            "SELECT rowid, highlight(fts, 0, '<mark>', '</mark>'), "
            "snippet(fts, 1, '<mark>', '</mark>', '…', 20) FROM fts "
            f"WHERE fts MATCH :q AND rowid IN ({ids})",
            {"q": match},
        )
    }
    conn.execute("DROP TABLE temp.m")
    results = [
        {"slug": row["slug"], "provider": row["provider"], "title": snippets[row["id"]][0],
         "summary": snippets[row["id"]][1]}
        for row in page
        if row["id"] in snippets
    ]  # fmt: skip
    return {"q": q, "total": total, "facets": facets, "results": results}


app = Flask(__name__)


@app.get("/fts5")
def fts5_page():
    # FTS5's highlight() and snippet() return the column's text unescaped: a real page would
    # escape it first; the minimal page trusts its own synthetic catalogue
    return render_template_string(PAGE, **search(request.args.get("q", "")))


@app.get("/hello")
def hello():
    return "hello"
