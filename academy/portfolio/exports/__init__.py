"""The learner's downloads and credentials (blueprint ``portfolio_exports``), one module per
screen:

- ``downloads``: the export page, the PDF summary, CSV, JSON, the signed CLR and everything
  held about the learner (a zip)
- ``credentials``: issuing, downloading and revoking an entry's Open Badges credential

and what they build: ``services`` (the export dictionary, CSV and zip), ``pdf`` (the printable
summary) and ``forms``. Every route is for the signed-in learner's own records only.

The public face other packages use is re-exported here.
"""

from academy.portfolio.exports.services import (
    build_export,
    data_zip,
    display_names,
    entries_csv,
    entry_columns,
    safe_cell,
)

__all__ = ["build_export", "data_zip", "display_names", "entries_csv", "entry_columns", "safe_cell"]


def register(app) -> None:
    """Add the download and credential screens to ``app``."""
    from academy.portfolio.exports import credentials, downloads  # noqa: F401
    from academy.portfolio.exports.common import bp

    app.register_blueprint(bp)
