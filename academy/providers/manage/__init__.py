"""Provider staff screens (``/provider``, blueprint ``manage``), one module per area:

- ``organisation``: registering an organisation, its details, members and invitations
- ``course_editor``: adding, editing, previewing, submitting and archiving courses
- ``cohorts_and_sessions``: adding and changing cohorts and their dated sessions, cancelling
- ``running_a_cohort``: deciding requests, marking attendance and completion, the learner CSV
- ``bulk_import``: the CSV template and guide, uploading, checking and confirming an import

Thin views: a form, one service call (``providers/services.py``, ``courses.py``,
``cohorts.py``, ``imports.py``), one commit. Every page under ``/provider/<slug>`` is for that
organisation's staff only (403 for others); a course or cohort id of another organisation is
"not found" (404) and changes nothing.
"""

from academy.providers.manage import (  # noqa: F401  (importing a module adds its routes to bp)
    bulk_import,
    cohorts_and_sessions,
    course_editor,
    organisation,
    running_a_cohort,
)
from academy.providers.manage.common import bp

__all__ = ["bp"]
