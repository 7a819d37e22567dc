"""The learner's portfolio: entries (verified by a provider or self-recorded), evidence files,
reflections, regulator views, exports, credentials, share links and the learner's data rights.

Like ``providers/manage/``, one sub-package per area, each with its blueprint, one module per
screen and its own services and forms:

- ``entries/``: the list, one entry, adding, changing and deleting entries, evidence files
- ``dashboard/``: charts, recommendations and the regulator views
- ``exports/``: downloads (PDF, CSV, JSON, CLR, the data zip) and Open Badges credentials
- ``sharing/``: share links and the public pages they open

Shared by all of them: ``models`` (the rows), ``common`` (the learner's own entries, looked up
so that someone else's id is a 404), ``evidence_store`` (files on disk, kept in step with the
request's commit) and ``navigation`` (the section tabs). Templates live under
``templates/portfolio/<area>/``.
"""

from flask import Flask


def init_app(app: Flask) -> None:
    """Register every portfolio blueprint, the section tabs and the evidence-file clean-up."""
    from academy.portfolio import dashboard, entries, evidence_store, exports, navigation, sharing

    # dashboard and sharing before entries: /portfolio/dashboard is not an entry of /portfolio
    dashboard.register(app)
    sharing.register(app)
    exports.register(app)
    entries.register(app)
    navigation.init_app(app)
    evidence_store.init_app(app)
