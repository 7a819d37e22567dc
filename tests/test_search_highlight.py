"""Highlighting uses a faster tokenizer than the index's analyser; it must yield the same tokens,
and so the same marked text, for any text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import highlight as wh

from academy.search.schema import highlight_analyzer, text_analyzer
from academy.search.service import highlight

WORDS = ["The", "trauma", "Informed", "practice", "practices", "of", "a", "I", "café", "CAFÉ",
         "naïve", "well-being", "self_harm", "2026", "x", "staff", "ßtraße", "İstanbul",
         "ﬁle", "<b>", "&amp;", "\"quoted\"", "Trauma's", "a<practice>"]  # fmt: skip


def _tokens(analyzer, text):
    return [
        (t.text, t.startchar, t.endchar, t.stopped)
        for t in analyzer(text, chars=True, mode="query", removestops=False)
    ]


texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(WORDS), max_size=80).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_the_same_tokens_as_the_index_analyser(text):
    assert _tokens(highlight_analyzer, text) == _tokens(text_analyzer(), text)


@settings(max_examples=200, deadline=None)
@given(
    texts, st.sets(st.sampled_from(["trauma", "practic", "cafe", "naiv", "staff", "2026", "of"]))
)  # noqa: E501
def test_the_same_marks_as_with_the_index_analyser(text, terms):
    terms = frozenset(terms)
    for whole in (True, False):
        fragmenter = wh.WholeFragmenter() if whole else wh.ContextFragmenter(300, 80)
        formatter = wh.HtmlFormatter(tagname="mark", classname="hit", termclass="t", between=" … ")
        expected = wh.highlight(text, terms, text_analyzer(), fragmenter, formatter, top=2)
        ours = str(highlight(text, terms, whole=whole))
        assert ours == (expected or str(highlight(text, frozenset(), whole=whole)))
