"""The old import path of ``academy.portfolio.common`` (the learner's own entries, looked up so
that someone else's id is a 404), kept so code written against it still imports; new code
imports ``academy.portfolio.common``."""

from academy.portfolio.common import entries_for, get_own_entry  # noqa: F401
