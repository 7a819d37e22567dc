"""Search: relevance, honesty, safety of odd input, highlights, and staying true to the database."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from academy.catalogue.models import Course
from academy.extensions import db
from academy.search import get_store, indexer, match_text
from academy.search.models import SearchOutbox
from academy.search.store import IndexStore


def titles(response) -> list[str]:
    html = response.get_data(as_text=True)
    found = re.findall(r'<h3 class="card-title"><a href="[^"]+">(.*?)</a></h3>', html)
    return [re.sub(r"<[^>]+>", "", title) for title in found]


def search(client, q: str, **args) -> list[str]:
    response = client.get("/courses", query_string={"q": q, **args})
    assert response.status_code == 200
    return titles(response)


@pytest.fixture
def catalogue(indexed, make_course, make_provider):
    """A small catalogue, indexed once it is written; later commits are indexed as they happen."""
    indexed.mode = "off"
    freud = make_provider("Anna Freud", slug="anna-freud")
    make_course(
        "Working with Personality Disorder: Raising Awareness",
        summary="Awareness of personality disorder for frontline prison and probation staff.",
        sectors=("criminal-justice",),
    )
    make_course(
        "Trauma-informed practice in housing services",
        summary="How trauma shapes tenancy and homelessness; trauma informed responses.",
        sectors=("housing-homelessness",),
    )
    make_course(
        "Counselling skills for support workers",
        summary="Listening, empathy and boundaries in everyday conversations.",
        provider=freud,
    )
    make_course(
        "Gestión del estrés en equipos de salud",
        summary="Curso en español sobre el estrés laboral.",
    )
    make_course(
        "Staff well-being and reflective practice",
        summary="Looking after yourself while working relationally.",
    )
    make_course(
        "Psychologically Informed Planned Environments: practitioner course",
        summary="Working in a PIPE unit in a prison or approved premises.",
    )
    make_course(
        "Therapeutic community practitioner course",
        summary="Three residential weekends on democratic therapeutic communities.",
    )
    make_course(
        "Child protection for school staff",
        summary="Keeping children safe in education.",
    )
    make_course(
        "Introduction to psychology for prison officers",
        summary="Basic psychology of behaviour change in custody.",
    )
    make_course("Hidden draft about personality disorder", status="draft")
    indexer.sync(get_store(), db.engine)
    indexed.mode = "inline"
    return freud


def test_title_matches_rank_above_summary_matches(client, catalogue):
    found = search(client, "psychology")
    assert found[0] == "Introduction to psychology for prison officers"


def test_all_terms_rank_first_and_only_the_rarer_words_partial_matches_follow(client, catalogue):
    found = search(client, "personality disorder prison")
    assert found[0] == "Working with Personality Disorder: Raising Awareness"
    # courses with "prison" but not the rarer "personality disorder" do not pad the page
    assert "Introduction to psychology for prison officers" not in found
    found = search(client, "prison psychology")
    assert found[0] == "Introduction to psychology for prison officers"
    assert "Working with Personality Disorder: Raising Awareness" not in found


def test_stemming(client, catalogue):
    assert "Therapeutic community practitioner course" in search(client, "communities")
    assert "Counselling skills for support workers" in search(client, "listen")


def test_uk_and_us_spellings(client, catalogue):
    assert search(client, "counseling") == ["Counselling skills for support workers"]
    assert search(client, "behavior") == ["Introduction to psychology for prison officers"]


def test_accents_do_not_matter(client, catalogue):
    assert search(client, "gestion del estres") == ["Gestión del estrés en equipos de salud"]
    assert search(client, "GESTIÓN") == ["Gestión del estrés en equipos de salud"]


def test_hyphens_and_compounds(client, catalogue):
    assert search(client, "wellbeing") == ["Staff well-being and reflective practice"]
    assert search(client, "well being") == ["Staff well-being and reflective practice"]
    assert "Trauma-informed practice in housing services" in search(client, "trauma informed")


def test_domain_synonyms(client, catalogue):
    assert search(client, "EUPD")[0] == "Working with Personality Disorder: Raising Awareness"
    assert search(client, "BPD")[0] == "Working with Personality Disorder: Raising Awareness"
    assert search(client, "psychologically informed planned environment")[0] == (
        "Psychologically Informed Planned Environments: practitioner course"
    )
    assert search(client, "PIPE")[0] == (
        "Psychologically Informed Planned Environments: practitioner course"
    )
    assert search(client, "TC") == ["Therapeutic community practitioner course"]
    assert search(client, "safeguarding") == ["Child protection for school staff"]


def test_quoted_phrases_match_words_together(client, catalogue):
    assert search(client, '"reflective practice"') == ["Staff well-being and reflective practice"]
    assert search(client, '"practice reflective"') == []


def test_typo_offers_a_suggestion_and_shows_its_results(client, catalogue):
    response = client.get("/courses", query_string={"q": "psycology"})
    html = response.get_data(as_text=True)
    assert "psychology" in html and "No courses matched “psycology”" in html
    assert titles(response)[0] == "Introduction to psychology for prison officers"


def test_suggestion_offered_beside_results(client, catalogue):
    # "prison" alone finds courses, so they are shown, and the fix is offered beside them
    response = client.get("/courses", query_string={"q": "prison OR psycology"})
    html = response.get_data(as_text=True)
    assert "Did you mean" in html and "prison OR psychology" in html
    assert "Introduction to psychology for prison officers" in titles(response)


def test_a_typo_that_finds_nothing_is_fixed_when_the_fix_is_one_letter(client, catalogue):
    response = client.get("/courses", query_string={"q": "prison psycology"})
    html = response.get_data(as_text=True)
    assert "No courses matched “prison psycology”" in html and "prison psychology" in html
    assert titles(response)[0] == "Introduction to psychology for prison officers"


def test_honest_empty_result(client, catalogue):
    response = client.get("/courses", query_string={"q": "quantum chromodynamics lattice"})
    html = response.get_data(as_text=True)
    assert titles(response) == []
    assert "No courses match" in html and 'href="/escalator"' in html
    # one weak word among many unrelated ones does not pad the page
    assert search(client, "quantum chromodynamics lattice prison") == []


def test_search_never_shows_hidden_courses_even_from_a_stale_index(app, client, catalogue):
    assert "Hidden draft about personality disorder" not in search(client, "personality")
    course = db.session.scalar(select(Course).where(Course.title.startswith("Working with")))
    # Make the index stale on purpose: hide the course without the outbox being applied.
    app.extensions["academy.search"].mode = "off"
    course.status = "archived"
    db.session.commit()
    assert "Working with Personality Disorder: Raising Awareness" not in search(
        client, "personality disorder"
    )


def test_filters_and_facets_apply_to_search_results(client, catalogue):
    everywhere = search(client, "prison")
    assert "Working with Personality Disorder: Raising Awareness" in everywhere
    args = {"q": "prison", "sector": "housing-homelessness"}
    response = client.get("/courses", query_string=args)
    found = titles(response)
    # the criminal-justice course drops out; courses open to all sectors stay
    assert "Working with Personality Disorder: Raising Awareness" not in found
    assert len(found) == len(everywhere) - 1
    html = response.get_data(as_text=True)
    assert f"{len(found)} courses found for “prison”" in html
    assert re.search(r'<option value="criminal-justice"[^>]*>[^<]*\(3\)</option>', html)


def test_highlights_mark_matches_and_escape_everything(client, indexed, make_course):
    make_course(
        "<script>alert(1)</script> Boundaries course",
        summary='Learn about boundaries & limits <img src=x onerror="alert(2)">',
    )
    html = client.get("/courses", query_string={"q": "boundaries <b>course</b>"}).get_data(
        as_text=True
    )
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert '<mark class="hit t0">Boundaries</mark>' in html
    assert "<b>course</b>" not in html


ODD_QUERIES = [
    '"unbalanced',
    'a "b',
    "AND OR NOT",
    "*",
    "title:prison",
    "x" * 5000,
    "\x00\x01\x02 control",
    "😀 emoji 🙃",
    "(((",
    "%_\\",
    "NOT",
    "'; DROP TABLE courses; --",
    "\u200b\ufeff",
]


@pytest.mark.parametrize("q", ODD_QUERIES)
def test_odd_query_text_never_errors(client, catalogue, q):
    response = client.get("/courses", query_string={"q": q})
    assert response.status_code == 200


def test_publish_makes_searchable_and_unpublish_archive_delete_remove(client, indexed, make_course):
    course = make_course("Green care in practice", status="draft")
    assert search(client, "green care") == []
    course.status = "published"
    db.session.commit()
    assert search(client, "green care") == ["Green care in practice"]
    course.status = "submitted"
    db.session.commit()
    assert search(client, "green care") == []
    course.status = "published"
    db.session.commit()
    course.status = "archived"
    db.session.commit()
    assert search(client, "green care") == []
    course.status = "published"
    db.session.commit()
    db.session.delete(course)
    db.session.commit()
    assert search(client, "green care") == []
    searcher = get_store().searcher()
    assert searcher.doc_count() == 0


def test_rollback_leaves_outbox_and_index_untouched(client, indexed, make_course):
    make_course("Stable course")
    before = db.session.scalars(select(SearchOutbox.id)).all()
    course = db.session.scalar(select(Course))
    course.title = "Renamed but rolled back"
    db.session.flush()
    db.session.rollback()
    assert db.session.scalars(select(SearchOutbox.id)).all() == before
    assert search(client, "rolled back") == []
    assert search(client, "stable") == ["Stable course"]


def test_provider_and_taxonomy_renames_reach_the_index(client, indexed, make_course, taxonomy):
    provider_course = make_course("A course")
    provider_course.provider.name = "Zephyrine Trust"
    db.session.commit()
    assert search(client, "zephyrine") == ["A course"]
    make_course("Another", sectors=("education",))
    taxonomy["sectors"]["education"].name = "Education and quillwork"
    db.session.commit()
    assert search(client, "quillwork") == ["Another"]


def test_crash_between_commit_and_index_write_is_repaired_by_next_sync(
    app, client, indexed, make_course
):
    indexed.mode = "off"  # as if the process died right after the database commit
    make_course("Missed by the index")
    assert search(client, "missed") == []
    report = indexer.sync(get_store(), db.engine)
    assert report.applied >= 1
    assert search(client, "missed") == ["Missed by the index"]


def test_two_index_directories_fed_from_one_database_converge(app, tmp_path, make_course):
    make_course("Shared course one")
    make_course("Shared course two")
    a, b = IndexStore(tmp_path / "server-a"), IndexStore(tmp_path / "server-b")
    indexer.sync(a, db.engine)
    course = make_course("Arrives later")
    indexer.sync(b, db.engine)
    course.title = "Arrives later, renamed"
    db.session.commit()
    for store in (a, b):
        indexer.sync(store, db.engine)
        assert match_text(store, "renamed").ranked_ids == [course.id]
        assert store.searcher().doc_count() == 3
    positions = indexer.status(a, db.engine).positions
    assert len(positions) == 2 and positions[0][1] == positions[1][1]


def test_rebuild_swaps_in_a_new_generation_while_searches_keep_working(
    app, tmp_path, make_course, monkeypatch
):
    for n in range(5):
        make_course(f"Rebuild course {n}")
    store = IndexStore(tmp_path / "index")
    indexer.sync(store, db.engine)
    old_generation = store.current_generation()
    seen_during_rebuild: list[int] = []
    real_make_live = IndexStore.make_live

    def make_live_after_searching(self, generation, keep=2):
        # the new generation is complete but not live yet: searches still use the old one
        with ThreadPoolExecutor(1) as pool:
            seen_during_rebuild.append(
                pool.submit(lambda: len(match_text(store, "rebuild").ranked_ids)).result()
            )
        real_make_live(self, generation, keep)

    monkeypatch.setattr(IndexStore, "make_live", make_live_after_searching)
    report = indexer.rebuild(store, db.engine)
    assert report.indexed == 5
    assert seen_during_rebuild == [5]
    assert store.current_generation() != old_generation
    assert len(match_text(store, "rebuild").ranked_ids) == 5


def test_gaps_in_outbox_ids_are_waited_for_not_skipped():
    from academy.search.indexer import _advance
    from academy.search.store import IndexState

    state = _advance(IndexState(last_id=10), [11, 13, 14], now=1000.0)
    assert state.last_id == 14 and set(state.gaps) == {"12"}
    state = _advance(state, [12], now=1001.0)
    assert state.gaps == {}
    old = _advance(IndexState(last_id=1, gaps={"1": 0.0}), [], now=10_000.0)
    assert old.gaps == {}  # a rolled-back id is given up eventually


def test_list_page_with_query_runs_a_fixed_number_of_queries(
    client, indexed, make_course, count_queries
):
    for n in range(60):
        make_course(f"Relational course {n}", sectors=("education",))
    client.get("/courses")  # reads the catalogue snapshot, so neither search below builds it
    with count_queries() as ten:
        assert len(search(client, "relational", per_page=10)) == 10
    with count_queries() as fifty:
        assert len(search(client, "relational", per_page=50)) == 50
    assert ten.count == fifty.count


def test_search_commands_sync_rebuild_and_status(app, runner, make_course):
    make_course("Command line course")
    result = runner.invoke(args=["search", "status"])
    assert result.exit_code == 0 and "no index yet" in result.output
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert "Rebuilt the index: 1 documents" in result.output
    make_course("Second course")
    result = runner.invoke(args=["search", "sync"])
    # a new provider and its course: two entries, one document
    assert "Applied 2 outbox entries (1 documents updated, 0 removed)" in result.output
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0 and "Rebuilt the index: 2 documents" in result.output
    result = runner.invoke(args=["search", "status"])
    assert "Published courses (db):   2" in result.output
    assert "Indexed documents:        2" in result.output
    assert "Entries waiting (lag):    0" in result.output
    assert "(this index)" in result.output


def test_background_worker_applies_commits_with_no_other_process(app, client, make_course):
    sync = app.extensions["academy.search"]
    sync.mode = "background"
    course = make_course("Found by the background worker")
    # the worker was woken by the commit; wait for passes until it has applied it
    for _ in range(20):
        sync.passed.clear()
        assert sync.passed.wait(timeout=30), "the search worker did not run"
        if match_text(get_store(), "background worker").ranked_ids:
            break
    assert match_text(get_store(), "background worker").ranked_ids == [course.id]
    assert sync._thread is not None and sync._thread.is_alive()


def test_prune_keeps_entries_any_live_index_still_needs(app, tmp_path, make_course):
    from datetime import timedelta

    from sqlalchemy import func, update

    from academy.db_types import utcnow
    from academy.search.models import SearchIndexPosition

    make_course("Old news")
    a, b = IndexStore(tmp_path / "a"), IndexStore(tmp_path / "b")
    indexer.sync(a, db.engine)
    indexer.sync(b, db.engine)
    make_course("Newer")
    indexer.sync(a, db.engine)  # b has not applied the newer entries yet
    a_position = db.session.get(SearchIndexPosition, a.index_id).last_id
    b_position = db.session.get(SearchIndexPosition, b.index_id).last_id
    assert b_position < a_position
    # every entry is old enough to prune
    db.session.execute(update(SearchOutbox).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    pruned = indexer.prune(db.engine)
    assert pruned > 0
    assert db.session.scalar(select(func.min(SearchOutbox.id))) == b_position + 1
    indexer.sync(b, db.engine)  # b still finds what it missed
    assert match_text(b, "newer").ranked_ids
    # an index silent for over a week no longer holds pruning back, and rebuilds on return
    db.session.execute(
        update(SearchIndexPosition)
        .where(SearchIndexPosition.index_id == b.index_id)
        .values(last_id=0, updated_at=utcnow() - timedelta(days=8))
    )
    make_course("Latest")
    indexer.sync(a, db.engine)
    db.session.execute(update(SearchOutbox).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    indexer.prune(db.engine)
    assert db.session.scalar(select(func.count(SearchOutbox.id))) == 0
    state = b.read_state(b.current_generation())
    assert state.last_id < a.read_state(a.current_generation()).last_id
    report = indexer.sync(b, db.engine)
    assert report.rebuilt
    assert match_text(b, "latest").ranked_ids


def test_an_index_of_an_older_schema_is_rebuilt_by_sync(app, tmp_path, make_course):
    make_course("Schema course")
    store = IndexStore(tmp_path / "index")
    indexer.sync(store, db.engine)
    generation = store.current_generation()
    state = store.read_state(generation)
    state.schema = 1
    store.write_state(generation, state)
    report = indexer.sync(store, db.engine)
    assert report.rebuilt and store.current_generation() != generation
    assert match_text(store, "schema").ranked_ids


def test_search_before_the_index_exists_says_so(client, make_course):
    make_course("Not yet indexed")
    html = client.get("/courses", query_string={"q": "indexed"}).get_data(as_text=True)
    assert "Search is being prepared" in html


def test_a_held_index_lock_never_blocks_or_fails_a_request(client, indexed, make_course):
    make_course("First course")
    store = get_store()
    with store.writer(store.current_generation()) as held:  # another process is writing
        assert held is not None
        course = make_course("Committed while the index is locked")
        assert indexer.sync(store, db.engine).busy
        response = client.get("/courses", query_string={"q": "committed locked"})
        assert response.status_code == 200
        held.cancel()
    indexer.sync(store, db.engine)  # the holder (or the next pass) applies it
    assert match_text(store, "committed locked").ranked_ids == [course.id]


def test_a_sync_with_nothing_to_apply_leaves_the_index_folder_as_it_was(app, tmp_path, make_course):
    """The follower syncs every poll: one that finds nothing must write no segment files, or the
    folder (which every search lists to see whether the index changed) grows without end."""
    make_course("Already indexed")
    store = IndexStore(tmp_path / "index")
    indexer.sync(store, db.engine)
    generation = store.current_generation()
    before = sorted(p.name for p in generation.iterdir())
    for _ in range(3):
        report = indexer.sync(store, db.engine)
        assert report.applied == 0 and not report.busy
    assert sorted(p.name for p in generation.iterdir()) == before


def test_a_cancelled_write_removes_its_segment_files_and_releases_the_lock(
    app, tmp_path, make_course
):
    course = make_course("Written then cancelled")
    store = IndexStore(tmp_path / "index")
    indexer.sync(store, db.engine)
    generation = store.current_generation()
    before = sorted(p.name for p in generation.iterdir())
    with pytest.raises(RuntimeError):
        with store.writer(generation) as writer:
            writer.delete_by_term("id", str(course.id))
            raise RuntimeError("the sync failed half way")
    assert sorted(p.name for p in generation.iterdir()) == before
    assert match_text(store, "cancelled").ranked_ids == [course.id]  # nothing was deleted
    with store.writer(generation) as writer:  # the lock was released
        assert writer is not None
        writer.cancel()
