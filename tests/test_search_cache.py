"""The per-process result cache of the courses page: hits while nothing changed, and never a stale
listing (issue 7, load). Also: the load tests' bare endpoint exists only when asked for."""

from __future__ import annotations

import re

from sqlalchemy import update

from academy import create_app
from academy.catalogue.models import Course
from academy.extensions import db
from academy.search import get_store, indexer
from academy.search.cache import EXTENSION, ResultCache, stamp


def titles(response) -> list[str]:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    found = re.findall(r'<h3 class="card-title"><a href="[^"]+">(.*?)</a></h3>', html)
    return [re.sub(r"<[^>]+>", "", title) for title in found]


def total(response) -> int:
    html = response.get_data(as_text=True)
    return int(re.search(r'id="results-heading"[^>]*>\s*(\d+) course', html).group(1))


def cache_of(app) -> ResultCache:
    return app.extensions[EXTENSION]


# -- the bare endpoint ---------------------------------------------------------------------------


def bare_settings(tmp_path) -> dict[str, str]:
    return {
        "SECRET_KEY": "x",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SEARCH_INDEX_DIR": str(tmp_path / "index"),
        "SEARCH_SYNC": "off",
    }


def test_benchmark_hello_is_not_registered_by_default(tmp_path):
    app = create_app(bare_settings(tmp_path))
    assert "catalogue.benchmark_hello" not in {rule.endpoint for rule in app.url_map.iter_rules()}
    assert "benchmark_hello" not in {rule.endpoint for rule in app.url_map.iter_rules()}
    assert app.test_client().get("/_bench/hello").status_code == 404


def test_benchmark_hello_answers_only_when_the_setting_is_on(tmp_path):
    app = create_app({**bare_settings(tmp_path), "BENCHMARK_HELLO": "1"})
    response = app.test_client().get("/_bench/hello")
    assert response.status_code == 200 and response.get_data(as_text=True) == "hello"


# -- the cache -----------------------------------------------------------------------------------


def test_a_repeated_search_is_served_from_the_cache(app, client, indexed, make_course):
    app.config["PAGE_CACHE_SIZE"] = 0  # the results cache, not a visitor's page in front of it
    make_course("Relational practice for housing staff")
    make_course("Relational supervision")
    first = client.get("/courses?q=relational")
    hits = cache_of(app).hits
    second = client.get("/courses?q=relational")
    assert cache_of(app).hits == hits + 1
    assert titles(second) == titles(first) and len(titles(first)) == 2


def test_a_course_change_invalidates_cached_results(app, client, indexed, make_course):
    kept = make_course("Relational practice for housing staff")
    hidden = make_course("Relational supervision")
    assert total(client.get("/courses?q=relational")) == 2
    assert total(client.get("/courses")) == 2
    hidden.status = "archived"
    db.session.commit()
    after = client.get("/courses?q=relational")
    assert titles(after) == [kept.title] and total(after) == 1
    assert total(client.get("/courses")) == 1
    kept.title = "Relational practice for hostel staff"
    db.session.commit()
    assert titles(client.get("/courses?q=hostel")) == [kept.title]
    assert titles(client.get("/courses?q=relational")) == [kept.title]


def test_a_change_is_seen_at_once_even_before_the_index_applies_it(
    app, client, indexed, make_course
):
    make_course("Relational practice")
    indexed.mode = "off"  # from here on nothing is applied to the index
    assert total(client.get("/courses")) == 1
    make_course("Another course")
    assert total(client.get("/courses")) == 2  # the outbox entry alone changed the stamp


def test_a_hidden_course_never_shows_from_a_cached_entry(app, client, indexed, make_course):
    """A change that wrote no outbox entry (a bulk statement) leaves the stamp as it was, so the
    entry is used; the page's courses are still re-read through the visibility rules."""
    make_course("Relational practice for housing staff")
    hidden = make_course("Relational supervision")
    assert len(titles(client.get("/courses?q=relational"))) == 2
    assert len(titles(client.get("/courses"))) == 2
    db.session.execute(update(Course).where(Course.id == hidden.id).values(status="draft"))
    db.session.commit()
    hits = cache_of(app).hits
    assert titles(client.get("/courses?q=relational")) == ["Relational practice for housing staff"]
    assert titles(client.get("/courses")) == ["Relational practice for housing staff"]
    assert cache_of(app).hits == hits + 2


def test_the_stamp_changes_when_the_index_applies_entries(app, make_course):
    make_course("Relational practice")
    store = get_store()
    indexer.sync(store, db.engine)  # builds the index
    before = stamp(store, db.session)
    make_course("Another course")
    committed = stamp(store, db.session)
    indexer.sync(store, db.engine)
    applied = stamp(store, db.session)
    assert len({before, committed, applied}) == 3


def test_cache_entries_expire_and_the_oldest_goes_first():
    now = [0.0]
    cache = ResultCache(size=2, seconds=30, clock=lambda: now[0])
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    now[0] = 31.0
    assert cache.get("a") is None and len(cache) == 1


def test_size_zero_turns_the_cache_off(tmp_path, make_course, app):
    app.config["SEARCH_CACHE_SIZE"] = 0
    make_course("Relational practice")
    client = app.test_client()
    assert total(client.get("/courses")) == 1
    assert total(client.get("/courses")) == 1
    assert EXTENSION not in app.extensions


def test_a_cache_hit_runs_a_fixed_number_of_queries(client, indexed, make_course, count_queries):
    for n in range(60):
        make_course(f"Relational course {n}", sectors=("education",))
    client.get("/courses?q=relational&per_page=10")
    client.get("/courses?q=relational&per_page=50")
    with count_queries() as ten:
        assert len(titles(client.get("/courses?q=relational&per_page=10"))) == 10
    with count_queries() as fifty:
        assert len(titles(client.get("/courses?q=relational&per_page=50"))) == 50
    assert ten.count == fifty.count


def test_a_searcher_opened_while_a_writer_commits_tries_again(app, monkeypatch, tmp_path):
    """A commit that removes the table of contents being opened is retried, not a 500."""
    from whoosh import index as whoosh_index

    from academy.search import store as store_module

    real_open = whoosh_index.open_dir
    calls = []

    def racing_open(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            raise FileNotFoundError(2, "No such file or directory", f"{path}/_MAIN_13.toc")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(whoosh_index, "open_dir", racing_open)
    with app.app_context():
        store = store_module.IndexStore(tmp_path / "index")
        store.ensure()
        searcher = store.searcher()
    assert searcher is not None and len(calls) == 2
    searcher.close()


def test_the_index_files_are_read_again_whenever_they_are_replaced(app, make_course):
    """The stamp's reads of CURRENT and state.json are kept by the files' stat: a new state or
    a new live generation is in the very next stamp."""
    make_course("Relational practice")
    store = get_store()
    indexer.sync(store, db.engine)
    generation = store.current_generation()
    first = stamp(store, db.session)
    assert stamp(store, db.session) == first  # nothing replaced: the same
    state = store.read_state(generation)
    state.last_id += 1
    state.gaps["12345"] = 1.0
    store.write_state(generation, state)
    assert stamp(store, db.session)[2:] == (state.last_id, ("12345",))
    other = store.new_generation()
    store.make_live(other)
    assert store.current_generation() == other
    assert stamp(store, db.session)[1] == other.name
