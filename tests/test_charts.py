"""The hand-written SVG charts: well-formed, labelled, scaled right, escaped, CSP-clean."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from academy.portfolio.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def assert_accessible(root: ET.Element, chart_id: str, title: str) -> None:
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
    assert root.find(f"{SVG}title").get("id") == f"{chart_id}-title"
    assert root.find(f"{SVG}title").text == title
    assert root.find(f"{SVG}desc").get("id") == f"{chart_id}-desc"
    assert root.get("viewBox") and root.get("width") is None  # scales to its container
    for element in root.iter():
        assert "style" not in element.attrib
        assert element.tag not in (f"{SVG}style", f"{SVG}script")


def bars(root: ET.Element, name: str) -> list[ET.Element]:
    """The bars of series ``name`` (legend swatches have its colour class, not ``chart-bar``)."""
    return [
        r
        for r in root.iter(f"{SVG}rect")
        if r.get("class", "").split() == ["chart-bar", f"chart-bar-{name}"]
    ]


def test_stacked_bars_stack_each_series_in_proportion():
    svg = charts.stacked_bars(
        charts.Caption("hours", "CPD hours per year", "Hours per year"),
        ["2024", "2025"],
        [
            charts.Series("Participatory", "participatory", "#123456", [6, 15]),
            charts.Series("Other", "other", "#abcdef", [4, 0]),
        ],
    )
    root = parse(svg)
    assert_accessible(root, "hours", "CPD hours per year")
    participatory, other = bars(root, "participatory"), bars(root, "other")
    assert len(participatory) == 2 and len(other) == 1  # a zero layer draws nothing
    # the axis tops out at 20 (the next round number above 15): 6 h is 6/20 of 15 h's 15/20
    heights = [float(r.get("height")) for r in participatory]
    assert heights[0] / heights[1] == pytest.approx(6 / 15, rel=0.01)
    # "other" sits directly on top of "participatory" in 2024
    low, high = participatory[0], other[0]
    assert float(high.get("y")) + float(high.get("height")) == pytest.approx(float(low.get("y")))
    assert float(other[0].get("height")) / heights[0] == pytest.approx(4 / 6, rel=0.01)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"10", "15", "2024", "2025", "Participatory", "Other", "20"} <= set(texts)


def test_horizontal_bars_outline_zero_and_scale_the_rest():
    root = parse(
        charts.horizontal_bars(
            charts.Caption("p", "Principles", "Covered"),
            [("Belonging", 2), ("Safety", 0), ("Boundaries", 1)],
        )
    )
    assert_accessible(root, "p", "Principles")
    filled = [r for r in root.iter(f"{SVG}rect") if "chart-bar-covered" in r.get("class")]
    empty = [r for r in root.iter(f"{SVG}rect") if "chart-bar-empty" in r.get("class")]
    assert len(filled) == 2 and len(empty) == 1
    assert empty[0].get("fill") == "none"
    assert float(filled[0].get("width")) == pytest.approx(2 * float(filled[1].get("width")))


def test_escalator_fills_the_steps_reached():
    steps = [(0, "Introductory"), (1, "Awareness"), (2, "Practitioner")]
    root = parse(
        charts.escalator(charts.Caption("e", "Escalator", "Where you are"), steps, reached=1)
    )
    assert_accessible(root, "e", "Escalator")
    classes = [r.get("class") for r in root.iter(f"{SVG}rect")]
    assert classes == ["chart-step-reached", "chart-step-reached", "chart-step"]
    assert "You are here" in [t.text for t in root.iter(f"{SVG}text")]
    none = parse(
        charts.escalator(charts.Caption("e", "Escalator", "Nothing yet"), steps, reached=None)
    )
    assert [r.get("class") for r in none.iter(f"{SVG}rect")] == ["chart-step"] * 3


def test_text_is_escaped():
    svg = str(
        charts.horizontal_bars(
            charts.Caption('x" onload="alert(1)', "<script>", "a & b"), [("<b>bold</b>", 1)]
        )
    )
    assert "<script>" not in svg and "<b>" not in svg
    assert 'onload="' not in svg
    root = parse(svg)
    assert root.find(f"{SVG}title").text == "<script>"
    assert "<b>bold</b>" in [t.text for t in root.iter(f"{SVG}text")]


@pytest.mark.parametrize(
    ("value", "ceiling"),
    [
        (0, 1),
        (0.4, 1),
        (1, 1),
        (7, 10),
        (12, 20),
        (21, 50),
        (50, 50),
        (51, 100),
        (float("inf"), 1),
        (float("nan"), 1),
    ],
)
def test_nice_ceiling(value, ceiling):
    assert charts.nice_ceiling(value) == ceiling


def test_numbers_have_no_trailing_zeros():
    assert [charts.number(v) for v in (7.0, 7.5, 0.25, 1 / 3)] == ["7", "7.5", "0.25", "0.33"]
    assert re.fullmatch(r"\d+", charts.number(120))
