"""A rebuild's segments are written by ``bulk.BulkSegmentWriter``; they must read back as Whoosh's.

- with encodings not shared and every block compressed, its files equal the files of Whoosh's own
  ``SegmentWriter`` for the same documents, byte for byte;
- as a rebuild writes them (shared encodings, small blocks left uncompressed), every term's
  statistics and postings (documents, weights, values), every stored field, field length and
  column read back the same.

The documents are the seeded catalogue's and a few hundred made from a small vocabulary, so that
terms span several posting blocks and texts start with stop words (their terms come with the
position of the first).
"""

from __future__ import annotations

import random

import pytest
from whoosh import index as whoosh_index
from whoosh.fields import TEXT, Schema
from whoosh.writing import SegmentWriter

from academy.extensions import db
from academy.search import bulk
from academy.search.bulk import BulkSegmentWriter, terms_key
from academy.search.documents import load_documents
from academy.search.schema import make_schema, writer_fields

WORDS = ["The", "trauma", "informed", "practice", "practices", "of", "a", "to", "café", "naïve",
         "well-being", "2026", "x", "staff", "ßtraße", "İstanbul", "ﬁle", ";", "safety", "this",
         "housing", "first", "support"]  # fmt: skip


def _documents(runner) -> list[dict]:
    assert runner.invoke(args=["seed"]).exit_code == 0
    ids = list(db.session.scalars(db.text("SELECT id FROM courses ORDER BY id")))
    with db.engine.connect() as connection:
        seeded = list(load_documents(connection, ids).values())
    rng = random.Random(18)
    made = []
    for n in range(400):
        document = dict(seeded[n % len(seeded)])
        words = lambda low, high: " ".join(rng.choices(WORDS, k=rng.randint(low, high)))  # noqa: E731
        document.update(id=str(100_000 + n), title=words(1, 8), summary=words(0, 20),
                        body=words(0, 300), provider=words(1, 3))  # fmt: skip
        made.append(document)
    documents = [writer_fields(document) for document in seeded + made]
    assert any(terms_key("title") in fields for fields in documents)  # starts with a stop word
    return documents


def _write(folder, writer_class, documents) -> None:
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), make_schema())
    writer = writer_class(ix, compound=False)
    for fields in documents:
        writer.add_document(**fields)
    writer.commit()


def _files(folder) -> dict[str, bytes]:
    """The segment's files by what follows the segment's name (which is random)."""
    return {
        path.name.split(".", 1)[1]: path.read_bytes()
        for path in folder.iterdir()
        if path.suffix not in (".toc", "") and not path.name.startswith("_")
    }


def test_without_sharing_the_files_are_whooshs_byte_for_byte(ctx, runner, tmp_path, monkeypatch):
    documents = _documents(runner)
    monkeypatch.setattr(BulkSegmentWriter, "cached_positions", 0)
    monkeypatch.setattr(BulkSegmentWriter, "compress_from", 0)
    _write(tmp_path / "whoosh", SegmentWriter, documents)
    _write(tmp_path / "bulk", BulkSegmentWriter, documents)
    whooshs, bulks = _files(tmp_path / "whoosh"), _files(tmp_path / "bulk")
    assert {"pst", "trm", "_stored.col", "_body_len.col"} <= set(whooshs)
    assert bulks == whooshs


def _read_back(folder) -> dict:
    """Everything a searcher can read of the one segment in ``folder``."""
    ix = whoosh_index.open_dir(str(folder))
    with ix.reader() as reader:
        terms = {}
        for field, text in reader.all_terms():
            info = reader.term_info(field, text)
            matcher = reader.postings(field, text)
            postings = []
            while matcher.is_active():
                postings.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            statistics = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(),
                          info.max_weight(), info.min_id(), info.max_id())  # fmt: skip
            terms[(field, text)] = (statistics, postings)
        count = reader.doc_count_all()
        fields = [name for name, field in reader.schema.items() if field.scorable]
        return {
            "terms": terms,
            "stored": list(reader.iter_docs()),
            "lengths": [[reader.doc_field_length(n, f) for f in fields] for n in range(count)],
            "field lengths": [reader.field_length(name) for name in fields],
            "ids": list(reader.column_reader("id")),
        }


def test_as_a_rebuild_writes_them_the_segments_read_back_as_whooshs(ctx, runner, tmp_path):
    assert bulk.CACHED_POSITIONS and bulk.COMPRESS_FROM  # what a rebuild uses
    documents = _documents(runner)
    _write(tmp_path / "whoosh", SegmentWriter, documents)
    _write(tmp_path / "bulk", BulkSegmentWriter, documents)
    whooshs, bulks = _read_back(tmp_path / "whoosh"), _read_back(tmp_path / "bulk")
    assert len(bulks["stored"]) == len(documents)
    assert max(len(postings) for _stats, postings in whooshs["terms"].values()) > 128  # blocks
    assert bulks == whooshs


def test_a_schema_it_does_not_write_is_refused(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), Schema(text=TEXT(vector=True)))
    with pytest.raises(ValueError, match="text"):
        BulkSegmentWriter(ix)
