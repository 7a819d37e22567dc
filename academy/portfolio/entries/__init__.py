"""The learner's entries (``/portfolio``, blueprint ``portfolio``), one module per screen:

- ``listing``: the list of entries with its year and kind filters
- ``editing``: reading one entry, adding, changing and deleting entries
- ``evidence_files``: uploading, downloading and deleting an entry's evidence files

and the services they call: ``services`` (entries: the list, the rules for changing them),
``evidence`` (which files are accepted, storing and removing them) and ``forms``. Every route is
the learner's own: someone else's id is a 404, exactly as one that does not exist.

The public face other packages use is re-exported here.
"""

from academy.portfolio.entries.services import (
    ANNOTATION_FIELDS,
    KINDS,
    RECORD_FIELDS,
    REFLECTION_FIELDS,
    EntryError,
    ReflectionNotConfirmed,
    VerifiedEntryLocked,
    create_entry,
    delete_entry,
    has_reflection,
    today_on_the_calendar,
    update_entry,
)

__all__ = [
    "ANNOTATION_FIELDS",
    "KINDS",
    "RECORD_FIELDS",
    "REFLECTION_FIELDS",
    "EntryError",
    "ReflectionNotConfirmed",
    "VerifiedEntryLocked",
    "create_entry",
    "delete_entry",
    "has_reflection",
    "today_on_the_calendar",
    "update_entry",
]


def register(app) -> None:
    """Add the entries screens to ``app`` (importing a module adds its routes to ``bp``)."""
    from academy.portfolio.entries import editing, evidence_files, listing  # noqa: F401
    from academy.portfolio.entries.common import bp

    app.register_blueprint(bp)
