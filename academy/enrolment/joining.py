"""An online cohort's joining link: set by the provider's staff, seen by learners with a place.

The link lives in ``CohortJoiningLink``, apart from the public cohort row. Who may see it is
decided here only (:func:`visible_links`): learners whose enrolment is ``enrolled`` (a place
now), on My learning and in their calendar files; never the waitlist, the public page or the API.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from academy.catalogue.models import Cohort
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.providers.models import CohortJoiningLink


def link_of(cohort: Cohort) -> str | None:
    """The cohort's joining link, for its provider's staff; None when there is none."""
    if cohort.id is None:
        return None
    row = db.session.get(CohortJoiningLink, cohort.id)
    return row.url if row is not None else None


def set_link(cohort: Cohort, url: str | None) -> None:
    """Store, change or (with ``None`` or "") remove the cohort's joining link; flushes.

    The caller checks the rules (staff only, an online cohort, https): see ``CohortPlaceMixin``.
    """
    db.session.flush()  # a new cohort needs its id
    row = db.session.get(CohortJoiningLink, cohort.id)
    if url:
        if row is None:
            db.session.add(CohortJoiningLink(cohort_id=cohort.id, url=url))
        else:
            row.url = url
    elif row is not None:
        db.session.delete(row)
    db.session.flush()


def visible_links(enrolments: Iterable[Enrolment]) -> dict[int, str]:
    """``{cohort id: link}`` for the online cohorts of ``enrolments`` that hold a place now
    (status ``enrolled``), in one query. Waitlisted, requested, completed, withdrawn or
    cancelled enrolments see no link."""
    cohort_ids = {e.cohort_id for e in enrolments if e.status == "enrolled" and e.cohort.is_online}
    if not cohort_ids:
        return {}
    rows = db.session.execute(
        select(CohortJoiningLink.cohort_id, CohortJoiningLink.url).where(
            CohortJoiningLink.cohort_id.in_(cohort_ids)
        )
    )
    return {cohort_id: url for cohort_id, url in rows}
