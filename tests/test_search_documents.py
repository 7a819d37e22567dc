"""Indexing reads plain rows and hands Whoosh analysed terms; both must change nothing.

- ``load_documents`` gives the same documents as ``course_document`` of the courses loaded
  through the ORM (the path it replaced), on the seeded catalogue and on hand-made edge cases;
- ``writer_fields`` (terms analysed once per word) makes the same postings, positions, field
  lengths and stored fields as Whoosh analysing the text itself;
- a rebuild in two processes holds the same documents as one in a single process.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from whoosh import index as whoosh_index

from academy.extensions import db
from academy.search import get_store, indexer
from academy.search.documents import load_documents
from academy.search.schema import (
    course_document,
    index_terms,
    make_schema,
    plain_analyzer,
    plain_terms,
    text_analyzer,
    writer_fields,
)

WORDS = ["The", "trauma", "Informed", "practice", "practices", "of", "a", "I", "café", "CAFÉ",
         "naïve", "well-being", "self_harm", "2026", "x", "staff", "ßtraße", "İstanbul",
         "ﬁle", ";", "\n"]  # fmt: skip
texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_index_terms_are_the_analysers(text):
    assert index_terms(text) == [t.text for t in text_analyzer()(text, mode="index")]
    assert plain_terms(text) == [t.text for t in plain_analyzer()(text, mode="index")]


def _orm_documents(ids: list[int]) -> dict[int, dict[str, str]]:
    with Session(db.engine) as session:
        return {i: course_document(c) for i, c in indexer._public_courses(session, ids).items()}


def _row_documents(ids: list[int]) -> dict[int, dict[str, str]]:
    with db.engine.connect() as connection:
        return load_documents(connection, ids)


def test_plain_rows_give_the_orm_documents_on_the_seeded_catalogue(ctx, runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    ids = list(db.session.scalars(db.text("SELECT id FROM courses ORDER BY id")))
    assert len(ids) > 20
    assert _row_documents(ids) == _orm_documents(ids)


def test_plain_rows_give_the_orm_documents_at_the_edges(
    make_course, make_cohort, make_programme, make_provider
):
    provider = make_provider("Café Naïve Trust")
    bare = make_course(
        "Only a title", provider=provider, delivery_mode=None, region=None, summary="",
        description="A long description " * 30, credit_level=None,
    )  # fmt: skip
    full = make_course(
        "Trauma-informed practice", provider=provider,
        sectors=("education", "criminal-justice", "health-social-care"), professions=("nurse",),
        principles=("safety-confidence", "belonging-connection"), credit_level="Level 4",
        who_its_for="Staff", entry_requirements="None", where_next="Step 3",
    )  # fmt: skip
    make_cohort(full)
    make_cohort(full, online=True)
    make_cohort(full, days=60)
    make_programme("Second programme", [full])
    make_programme("First programme", [full, bare])
    hidden = make_course("A draft", status="draft")
    ids = [bare.id, full.id, hidden.id, 999_999]
    found = _row_documents(ids)
    assert set(found) == {bare.id, full.id}
    assert found == _orm_documents(ids)
    assert "Training room 1, Leeds\nTraining room 1, Leeds" in found[full.id]["body"]


def _postings(ix) -> dict:
    """Every term's postings (document id, frequency, positions) and every document's stored
    fields and field lengths, independent of document numbers."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        ids = {n: fields["id"] for n, fields in reader.iter_docs()}
        stored = {ids[n]: fields for n, fields in reader.iter_docs()}
        lengths = {
            (ids[n], name): reader.doc_field_length(n, name)
            for n in ids
            for name in ("title", "summary", "provider", "taxonomy", "body", "spell", "pairs")
        }
        terms = {}
        for field, text in reader.all_terms():
            matcher = reader.postings(field, text)
            postings = []
            while matcher.is_active():
                positional = reader.schema[field].format.supports("positions")
                positions = matcher.value_as("positions") if positional else None
                postings.append((ids[matcher.id()], matcher.value_as("frequency"), positions))
                matcher.next()
            terms[(field, text)] = sorted(postings)
    return {"stored": stored, "lengths": lengths, "terms": terms}


def test_analysed_fields_make_the_same_index_as_text(ctx, tmp_path, runner):
    assert runner.invoke(args=["seed"]).exit_code == 0
    ids = list(db.session.scalars(db.text("SELECT id FROM courses ORDER BY id")))
    documents = _row_documents(ids)
    indexes = []
    for name, prepare in (("text", dict), ("terms", writer_fields)):
        (tmp_path / name).mkdir()
        ix = whoosh_index.create_in(str(tmp_path / name), make_schema())
        with ix.writer() as writer:
            for document in documents.values():
                writer.add_document(**prepare(document))
        indexes.append(_postings(ix))
    assert indexes[0] == indexes[1]
    assert indexes[0]["terms"]


def test_a_rebuild_in_two_processes_holds_what_one_process_builds(ctx, runner, monkeypatch):
    assert runner.invoke(args=["seed"]).exit_code == 0
    monkeypatch.setattr(indexer, "PARALLEL_MIN", 2)
    store = get_store()
    indexer.rebuild(store, db.engine, procs=1)
    single = _postings(whoosh_index.open_dir(str(store.current_generation())))
    report = indexer.rebuild(store, db.engine, procs=2)
    generation = store.current_generation()
    ix = whoosh_index.open_dir(str(generation))
    assert len(ix._segments()) == 2
    assert report.indexed == ix.doc_count() == len(single["stored"])
    assert _postings(ix) == single
    store.close()
