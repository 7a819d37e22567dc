"""The portfolio's section tabs, shared by every portfolio page.

Each section names its endpoint; a section whose blueprint is not registered is left out, so
the tabs never link to a page that does not exist.
"""

from __future__ import annotations

from flask import Flask, current_app, request, url_for

SECTIONS = (
    ("portfolio.entries", "Entries"),
    ("portfolio_dashboard.dashboard", "Dashboard"),
    ("portfolio_dashboard.regulator", "Regulator view"),
    ("portfolio_exports.exports", "Export and credentials"),
    ("portfolio_sharing.links", "Share links"),
)


def portfolio_sections() -> list[dict]:
    """``[{"label", "url", "current"}]`` for the registered sections, in order."""
    sections = []
    for endpoint, label in SECTIONS:
        if endpoint not in current_app.view_functions:
            continue
        sections.append(
            {
                "label": label,
                "url": url_for(endpoint),
                "current": request.endpoint == endpoint,
            }
        )
    return sections


def init_app(app: Flask) -> None:
    app.add_template_global(portfolio_sections)
