"""The results page's prebuilt markup: facet options made once per snapshot and course links
built from one prefix are exactly what the templates built before, escaped, and never stale."""

from __future__ import annotations

import pytest
from flask import url_for

from academy.catalogue.browse import Facet, FacetValue, _option_pieces
from academy.catalogue.snapshot import catalogue_snapshot
from academy.extensions import db
from academy.search import get_store
from academy.search.cache import stamp
from academy.urls import path_builder

# the macro's loop as it was before the options were prebuilt: the oracle
ORACLE = (
    "{%- for value in facet.values %}\n"
    '      <option value="{{ value.term.slug }}"{% if value.selected %} selected'
    "{% elif value.count == 0 %} disabled{% endif %}>\n"
    "        {%- if facet.name == 'step' %}{{ value.term.number }}. {% endif %}"
    "{{ value.term.name }} ({{ value.count }})</option>\n"
    "    {% endfor -%}"
)


class _Term:
    def __init__(self, slug: str, name: str, number: int = 0) -> None:
        self.id, self.slug, self.name, self.number = number, slug, name, number


def _facet(name: str, snapshot, terms, counts, selected) -> Facet:
    values = [FacetValue(t, counts[i], t.slug == selected) for i, t in enumerate(terms)]
    return Facet(name, name.title(), values, _option_pieces(snapshot, name, terms))


@pytest.mark.parametrize("name", ["step", "sector"])
def test_facet_options_are_the_macros_markup_with_every_name_escaped(app, name):
    terms = [
        _Term("a", "Plain", 1),
        _Term('b"><script>', "<b>Bold</b> & 'quoted'", 2),
        _Term("c", "Empty", 3),
    ]
    with app.test_request_context():
        snapshot = catalogue_snapshot(stamp(get_store(), db.session))
        facet = _facet(name, snapshot, terms, [4, 7, 0], selected='b"><script>')
        expected = "\n    " + app.jinja_env.from_string(ORACLE).render(facet=facet)
        template = app.jinja_env.from_string("{{ facet.options }}")
        assert "\n    " + template.render(facet=facet) == expected
        assert "<script>" not in str(facet.options) and "<b>" not in str(facet.options)
        assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &#39;quoted&#39; (7)" in str(facet.options)


def test_facet_options_are_made_from_the_very_terms_shown(app):
    """Kept per snapshot, but never for other terms (a snapshot read again at the same stamp)."""
    with app.test_request_context():
        snapshot = catalogue_snapshot(stamp(get_store(), db.session))
        first = [_Term("a", "Old name")]
        assert "Old name" in str(_facet("sector", snapshot, first, [1], None).options)
        renamed = [_Term("a", "New name")]
        options = str(_facet("sector", snapshot, renamed, [1], None).options)
        assert "New name" in options and "Old name" not in options


def test_a_renamed_term_is_on_the_next_results_page(client, make_course, taxonomy):
    make_course("A", sectors=("education",))
    assert "Education (1)" in client.get("/courses").get_data(as_text=True)
    taxonomy["sectors"]["education"].name = "Schools & colleges"
    db.session.commit()
    html = client.get("/courses").get_data(as_text=True)
    assert "Schools &amp; colleges (1)" in html and "Education (1)" not in html


@pytest.mark.parametrize("slug", ["plain-slug", "with space", "ünïcode", "a/b?c#d", "100%"])
def test_course_links_are_what_url_for_builds(app, slug):
    with app.test_request_context():
        build = path_builder("catalogue.course_detail", "slug")
        assert build(slug) == url_for("catalogue.course_detail", slug=slug)


def test_a_path_builder_needs_the_value_at_the_end(app):
    with app.test_request_context(), pytest.raises(ValueError):
        path_builder("catalogue.course_list", "q")
