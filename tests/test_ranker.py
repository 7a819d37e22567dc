"""The numpy ranker (``search/ranker.py``) scores exactly as Whoosh's own searcher would.

The reference is the Whoosh query the ranker stands in for: an ``Or`` of every unit's
alternatives in every text field (a ``Term`` for a word, a ``Phrase`` for several), searched with
Whoosh's default BM25F. The index has several segments and deleted documents, as a live index has
after a few syncs.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh import query as wq

from academy.search.query import Unit, _analysed, parse, unit_parts
from academy.search.ranker import ranker_for, read_lengths, read_postings
from academy.search.schema import TEXT_FIELDS, exact_key, make_schema, pair_key, word_pairs
from academy.search.service import _exact, _pairs, _word_forms, score_units
from academy.search.spelling import spelling_for

WORDS = (
    "trauma informed practice personality disorder prison probation housing reflective "
    "relational awareness leadership counselling counseling psychologically planned environment "
    "emotionally unstable borderline complex emotional needs self harm wellbeing well being "
    "supervision team staff learning community therapeutic group mentalization schools care "
    "behaviour behavior recovery dialogue open family network youth offending risk"
).split()

QUERIES = [
    "trauma",
    "trauma informed",
    "personality disorder prison",
    "EUPD",  # a synonym line of phrases
    "counseling skills",  # UK and US spellings
    '"reflective practice"',
    '"planned environment" staff',
    "well being team",
    "self harm youth offending risk",
    "nothing matches zzzz",
    "behaviour behaviour",  # the same unit twice: Whoosh counts both
]


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _document(rng: random.Random, number: int) -> dict[str, str]:
    title = _text(rng, 2, 6)
    return {
        "id": str(number),
        "title": title,
        "summary": _text(rng, 5, 15),
        "provider": _text(rng, 1, 3),
        "taxonomy": _text(rng, 2, 5),
        "body": _text(rng, 20, 80),
        "spell": title,
        "pairs": " ".join(word_pairs(title)),
        "title_exact": exact_key(title),
    }


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """Four segments (never merged), some documents deleted and some replaced."""
    folder = tmp_path_factory.mktemp("ranker-index")
    ix = whoosh_index.create_in(str(folder), make_schema())
    rng = random.Random(20261202)
    number = 0
    for _segment in range(3):
        writer = ix.writer()
        for _ in range(150):
            number += 1
            writer.add_document(**_document(rng, number))
        writer.commit(merge=False)
    writer = ix.writer()
    for doomed in rng.sample(range(1, number + 1), 40):
        writer.delete_by_term("id", str(doomed))
    for replaced in rng.sample(range(1, number + 1), 30):
        writer.update_document(**_document(rng, replaced))
    writer.commit(merge=False)
    return ix


def whoosh_reference(units: list[Unit]) -> wq.Query:
    def unit_query(unit: Unit) -> wq.Query:
        parts = [
            wq.Term(name, terms[0], boost=boost)
            if len(terms) == 1
            else wq.Phrase(name, terms, boost=boost)
            for terms, boost in unit_parts(unit)
            for name in TEXT_FIELDS
        ]
        return wq.Or(parts) if parts else wq.NullQuery

    return wq.Or([unit_query(unit) for unit in units]), [unit_query(unit) for unit in units]


def test_the_index_has_several_segments_and_deletions(index):
    with index.searcher() as searcher:
        leaves = [sub.reader() for sub, _offset in searcher.leaf_searchers()]
        assert len(leaves) >= 3
        assert any(reader.has_deletions() for reader in leaves)


@pytest.mark.parametrize("text", QUERIES)
def test_scores_and_matches_equal_whoosh(index, text):
    units = parse(text)
    whole, per_unit = whoosh_reference(units)
    with index.searcher() as searcher:
        expected = {docnum: score for score, docnum in searcher.search(whole, limit=None).top_n}
        scores, matched, hit = score_units(ranker_for(searcher), units)
        assert set(np.flatnonzero(hit).tolist()) == set(expected)
        for docnum, score in expected.items():
            assert math.isclose(scores[docnum], score, rel_tol=1e-9), (docnum, text)
        unit_docs = [set(searcher.docs_for_query(query)) for query in per_unit]
        for docnum in range(searcher.doc_count_all()):
            assert matched[docnum] == sum(docnum in docs for docs in unit_docs)
    if text != "nothing matches zzzz":
        assert expected, "the query should find something in this index"


def test_block_reads_equal_walking_whoosh_matchers(index):
    with index.searcher() as searcher:
        for sub, _offset in searcher.leaf_searchers():
            reader = sub.reader()
            for word in ("trauma", "practic", "youth", "absent"):
                for name in TEXT_FIELDS:
                    docs, weights = read_postings(reader, name, word)
                    walked: list[tuple[int, float]] = []
                    if (name, word) in reader:
                        matcher = reader._terms.matcher(
                            name, word.encode(), reader.schema[name].format
                        )
                        while matcher.is_active():
                            walked.append((matcher.id(), matcher.weight()))
                            matcher.next()
                    assert list(zip(docs.tolist(), weights.tolist(), strict=True)) == walked
            lengths = read_lengths(reader, "body")
            assert [reader.doc_field_length(doc, "body", 1) for doc in range(len(lengths))] == (
                lengths.tolist()
            )


def test_searchers_on_the_same_segments_share_what_was_read(tmp_path):
    """A new searcher (another thread, or after a sync) reads only the segments it has not seen;
    what it finds still follows the index."""
    ix = whoosh_index.create_in(str(tmp_path), make_schema())
    rng = random.Random(5)
    writer = ix.writer()
    for number in range(1, 41):
        writer.add_document(**_document(rng, number))
    writer.commit()
    units = parse("trauma")
    with ix.searcher() as first, ix.searcher() as second:
        a, b = ranker_for(first), ranker_for(second)
        assert a is not b and a.leaves[0].postings is b.leaves[0].postings
        assert spelling_for(a) is spelling_for(b)
        before = score_units(a, units)[2].sum()
    writer = ix.writer()
    writer.add_document(**{**_document(rng, 41), "title": "trauma trauma"})
    writer.commit(merge=False)
    with ix.searcher() as later:
        c = ranker_for(later)
        assert len(c.leaves) == 2 and c.leaves[0].postings is a.leaves[0].postings
        assert spelling_for(c) is not spelling_for(a)
        assert score_units(c, units)[2].sum() == before + 1
        assert 41 in c.course_ids.tolist()


@pytest.mark.parametrize("number", [0, 1, 2])
def test_exact_and_pair_scores_equal_whoosh(index, number):
    """The two scores added to BM25F (words as typed, in the ``spell`` field; neighbouring words,
    in the ``pairs`` field) are Whoosh's own BM25F scores of those terms."""
    with index.searcher() as searcher:
        title = next(
            fields["title"]
            for doc, fields in enumerate(searcher.all_stored_fields())
            if doc % 7 == number and len(fields["title"].split()) >= 3
        )
        units = parse(" ".join(title.split()[:3]))
        ranker = ranker_for(searcher)
        for unit in units:
            typed = unit.typed or unit.alternatives[0]
            forms = [form for word in typed for form in sorted(_word_forms(word))]
            reference = wq.Or([wq.Term("spell", form) for form in forms])
            expected = {doc: score for score, doc in searcher.search(reference, limit=None).top_n}
            scores, _found = _exact(ranker, unit)
            assert expected and set(np.flatnonzero(scores).tolist()) == set(expected)
            for doc, score in expected.items():
                assert math.isclose(scores[doc], score, rel_tol=1e-9)
        pairs = [
            wq.Term("pairs", pair_key(_analysed(left.typed or left.alternatives[0])[-1],
                                      _analysed(right.typed or right.alternatives[0])[0]))
            for left, right in zip(units, units[1:], strict=False)
        ]  # fmt: skip
        expected = {doc: score for score, doc in searcher.search(wq.Or(pairs), limit=None).top_n}
        scores = _pairs(ranker, units)
        assert expected, "the title's own pairs are in the index"
        assert set(np.flatnonzero(scores).tolist()) == set(expected)
        for doc, score in expected.items():
            assert math.isclose(scores[doc], score, rel_tol=1e-9)
