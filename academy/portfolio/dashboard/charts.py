"""Small server-rendered SVG charts for the portfolio dashboard.

Each function returns ``Markup`` holding one inline ``<svg role="img">`` with a ``<title>`` and
a ``<desc>`` it is labelled by. Colours are presentation attributes (``fill``) with a class per
part, so the stylesheet may restyle them; there is no ``style`` attribute, no ``<style>`` and no
script, so the charts pass a strict Content-Security-Policy and read the same without
JavaScript. The SVG has a ``viewBox`` and no fixed size, so it scales to its container. Pages show
a data table beside each chart as its text alternative: the chart is only a picture of it.

Every piece of text is escaped here; callers pass plain strings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 640
INK = "#1d1d1f"
MUTED = "#4a4f57"
LINE = "#c9ced6"


@dataclass(frozen=True)
class Caption:
    """What labels a chart for everyone: its element ``id``, a ``title`` and a ``desc``ription
    (the figures in words, for screen readers)."""

    id: str
    title: str
    desc: str


@dataclass(frozen=True)
class Series:
    """One layer of a stacked bar chart: its label, a CSS class suffix and a fill colour."""

    label: str
    name: str
    fill: str
    values: Sequence[float]


def number(value: float) -> str:
    """``7``, ``7.5``, ``0.25``: no trailing zeros."""
    return f"{round(value, 2):g}"


def nice_ceiling(value: float) -> float:
    """A round number at or above ``value`` for the top of an axis (1, 2, 5, 10, 20, 50 …)."""
    if not math.isfinite(value) or value <= 0:
        return 1
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for multiple in (1, 2, 5, 10):
        if step * multiple >= value:
            return step * multiple
    return step * 10  # pragma: no cover (the loop above always returns)


def _open(caption: Caption, height: int, extra_class: str) -> list[str]:
    chart_id, title, desc = caption.id, caption.title, caption.desc
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {escape(extra_class)}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'id="{escape(chart_id)}" focusable="false">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]


def _close(parts: list[str]) -> Markup:
    """The finished ``<svg>`` as markup. Safe: every piece of text in ``parts`` went through
    ``escape`` (or is a number or one of this module's constants); tests/test_charts.py checks
    that text with markup comes out escaped."""
    parts.append("</svg>")
    return Markup("".join(parts))  # nosec B704  # every text part is escaped above


def _rect(
    x: float, y: float, width: float, height: float, cls: str, fill: str, stroke: str = ""
) -> str:
    """One ``<rect>`` of class ``cls`` (an outline when ``stroke`` is given)."""
    outline = f' stroke="{escape(stroke)}"' if stroke else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{escape(fill)}"{outline} class="{escape(cls)}"/>'
    )


def _text(x: float, y: float, content: str, *, anchor: str = "start", cls: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="14" '
        f'fill="{INK}" class="chart-text {escape(cls)}">{escape(content)}</text>'
    )


def stacked_bars(
    caption: Caption,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "hours",
) -> Markup:
    """A vertical bar per category, each stacked from ``series`` (the first at the bottom), with
    the total above each bar, a labelled y axis and a legend."""
    height, top, bottom, left, right = 320, 40, 260, 56, WIDTH - 16
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    ceiling = nice_ceiling(max(totals, default=0))
    scale = (bottom - top) / ceiling
    parts = _open(caption, height, "chart-stacked")
    for fraction in (0, 0.5, 1):
        y = bottom - fraction * (bottom - top)
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LINE}" '
            'class="chart-grid"/>'
        )
        parts.append(_text(left - 6, y + 5, number(ceiling * fraction), anchor="end"))
    parts.append(_text(8, top - 16, unit.capitalize(), cls="chart-axis-label"))
    slot = (right - left) / max(len(categories), 1)
    bar = min(64.0, slot * 0.6)
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar) / 2
        y = float(bottom)
        for layer in series:
            value = layer.values[i]
            if value <= 0:
                continue
            h = value * scale
            y -= h
            parts.append(_rect(x, y, bar, h, f"chart-bar chart-bar-{layer.name}", layer.fill))
        parts.append(_text(x + bar / 2, y - 6, number(totals[i]), anchor="middle"))
        parts.append(_text(x + bar / 2, bottom + 20, category, anchor="middle"))
    legend_x = float(left)
    for layer in series:
        parts.append(_rect(legend_x, height - 24, 14, 14, f"chart-bar-{layer.name}", layer.fill))
        parts.append(_text(legend_x + 20, height - 12, layer.label))
        legend_x += 28 + 8 * len(layer.label)
    return _close(parts)


def horizontal_bars(
    caption: Caption,
    items: Sequence[tuple[str, float]],
    *,
    fill: str = "#1f4e79",
) -> Markup:
    """One labelled horizontal bar per ``(label, value)``, with the value at its end; a zero
    value gets an outline, so a gap is visible."""
    row, top, label_width = 30, 12, 300
    height = top * 2 + row * max(len(items), 1)
    ceiling = nice_ceiling(max((v for _, v in items), default=0))
    room = WIDTH - label_width - 48
    parts = _open(caption, height, "chart-horizontal")
    for i, (label, value) in enumerate(items):
        y = top + row * i
        parts.append(_text(label_width - 8, y + 19, label, anchor="end"))
        width = max(value / ceiling * room, 0)
        if value > 0:
            parts.append(
                _rect(label_width, y + 5, width, row - 10, "chart-bar chart-bar-covered", fill)
            )
        else:
            parts.append(
                _rect(label_width, y + 5, 4, row - 10, "chart-bar chart-bar-empty", "none", MUTED)
            )
        parts.append(_text(label_width + max(width, 4) + 6, y + 19, number(value)))
    return _close(parts)


def escalator(
    caption: Caption,
    steps: Sequence[tuple[int, str]],
    reached: int | None,
) -> Markup:
    """The escalator as a staircase, lowest step on the left: steps up to ``reached`` filled,
    the rest outlined, and "You are here" over the highest step reached."""
    height, base, rise = 260, 236, 36
    count = max(len(steps), 1)
    tread = (WIDTH - 16) / count
    parts = _open(caption, height, "chart-escalator")
    for i, (step_number, name) in enumerate(steps):
        x = 8 + tread * i
        h = rise * (i + 1)
        done = reached is not None and step_number <= reached
        fill, cls = ("#1f4e79", "chart-step-reached") if done else ("#f4f6f8", "chart-step")
        parts.append(_rect(x, base - h, tread - 4, h, cls, fill, stroke=MUTED))
        parts.append(_text(x + (tread - 4) / 2, base - h - 8, name, anchor="middle"))
        parts.append(_text(x + (tread - 4) / 2, base + 18, f"Step {step_number}", anchor="middle"))
        if reached is not None and step_number == reached:
            parts.append(
                _text(
                    x + (tread - 4) / 2,
                    base - h - 28,
                    "You are here",
                    anchor="middle",
                    cls="chart-here",
                )
            )
    return _close(parts)


# --- the dashboard's three charts ---------------------------------------------------------------


def hours_per_year(years: Sequence) -> Markup:
    """CPD hours per year (``regulators.YearHours``), participatory stacked under other."""
    in_words = "; ".join(
        f"{y.year}: {number(y.participatory)} participatory, {number(y.other)} other" for y in years
    )
    return stacked_bars(
        Caption(
            "hours-chart",
            "CPD hours per year",
            f"Participatory and other CPD hours for each year, {in_words}.",
        ),
        [str(y.year) for y in years],
        [
            Series("Participatory", "participatory", "#1f4e79", [y.participatory for y in years]),
            Series("Other", "other", "#8fb3d9", [y.other for y in years]),
        ],
    )


def principles_covered(coverage: Sequence, covered: int) -> Markup:
    """Entries per charter principle (``regulators.PrincipleCount``)."""
    return horizontal_bars(
        Caption(
            "principles-chart",
            "Charter principles covered",
            f"Your entries cover {covered} of the {len(coverage)} charter principles.",
        ),
        [(c.name, c.entries) for c in coverage],
    )


def escalator_position(steps: Sequence[tuple[int, str]], reached) -> Markup:
    """The escalator with the learner's highest step (a ``Step`` or ``None``) marked."""
    return escalator(
        Caption(
            "escalator-chart",
            "Where you stand on the escalator",
            f"The highest step you have reached is step {reached.number}, {reached.name}."
            if reached is not None
            else "You have not yet completed a verified course on any step.",
        ),
        steps,
        None if reached is None else reached.number,
    )
