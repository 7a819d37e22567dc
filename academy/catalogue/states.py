"""A course's publishing states and the moves between them: the one table that the provider and
curator services, the page wording and the tests all read.

The public always reads a course's *live* columns, and only while its status is ``published``
(``academy.catalogue.visibility``). An edit of a published course is not written to the live
columns: it waits in ``Course.pending_edit`` until a curator approves it, so learners keep seeing
the approved version in the page, search, API, feed, escalator and programmes. A course that was
never published (draft, submitted, rejected) is edited in place.

Which changes need a curator (docs/publishing.md): every field in :data:`REVIEWED_FIELDS`, that
is the course's text and its classification. The provider's own reference and everything about
running the course (cohorts, their dates, places, sessions, joining links, the enrolment list,
completion marks) are changed at once, with no review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

#: a course's text and classification: a change to these, on a published course, waits for a curator
REVIEWED_FIELDS = (
    "title",
    "summary",
    "description",
    "who_its_for",
    "entry_requirements",
    "where_next",
    "step",
    "delivery_mode",
    "region",
    "sectors",
    "professions",
    "principles",
    "prerequisites",
    "duration_hours",
    "cpd_hours",
    "credits",
    "credit_level",
    "cost_type",
    "fee_pence",
    "lived_experience_codelivery",
    "external_url",
)
#: changed at once, whatever the state: the provider's own code for the course (imports match on it)
UNREVIEWED_FIELDS = ("reference",)
#: what a provider runs, never reviewed: changing these never touches the review queue
UNREVIEWED_THINGS = (
    "cohorts",
    "cohort dates and sessions",
    "places",
    "joining links",
    "enrolment lists",
    "completion marks",
)


@dataclass(frozen=True)
class State:
    """One publishing state: ``label`` is the badge, ``note`` what the provider is told."""

    key: str
    label: str
    note: str
    #: the public sees the course (its approved, live version)
    public: bool
    #: the course is in the curators' queue
    waiting: bool


_S = State
STATES: dict[str, State] = {
    state.key: state
    for state in (
        _S(
            "draft",
            "Draft",
            "Only your organisation can see it. Submit it for review when it is ready.",
            public=False,
            waiting=False,
        ),
        _S(
            "submitted",
            "Waiting for review",
            "A curator will review it before it is public. You can still edit it, or withdraw it.",
            public=False,
            waiting=True,
        ),
        _S(
            "published",
            "Published",
            "Learners can see it. An edit waits for a curator before learners see it.",
            public=True,
            waiting=False,
        ),
        _S(
            "edit_pending",
            "Published, edit waiting for review",
            "Learners see the approved version until a curator approves your edit. You can"
            " change the edit or withdraw it.",
            public=True,
            waiting=True,
        ),
        _S(
            "edit_rejected",
            "Published, edit not approved",
            "Learners still see the approved version. Change your edit and send it again, or"
            " withdraw it.",
            public=True,
            waiting=False,
        ),
        _S(
            "rejected",
            "Changes requested",
            "It is not public. Edit it, then submit it again.",
            public=False,
            waiting=False,
        ),
        _S(
            "archived",
            "Archived",
            "It has left the catalogue for good and can no longer be edited.",
            public=False,
            waiting=False,
        ),
    )
}

#: ``(state, action) -> the state it leads to``; a move that is not here is refused
TRANSITIONS: dict[tuple[str, str], str] = {
    ("draft", "edit"): "draft",
    ("draft", "submit"): "submitted",
    ("draft", "archive"): "archived",
    ("submitted", "edit"): "submitted",
    ("submitted", "withdraw"): "draft",
    ("submitted", "approve"): "published",
    ("submitted", "reject"): "rejected",
    ("submitted", "archive"): "archived",
    ("rejected", "edit"): "rejected",
    ("rejected", "submit"): "submitted",
    ("rejected", "archive"): "archived",
    ("published", "edit"): "edit_pending",
    ("published", "unpublish"): "rejected",
    ("published", "archive"): "archived",
    ("edit_pending", "edit"): "edit_pending",
    ("edit_pending", "withdraw"): "published",
    ("edit_pending", "approve"): "published",
    ("edit_pending", "reject"): "edit_rejected",
    ("edit_pending", "unpublish"): "rejected",
    ("edit_pending", "archive"): "archived",
    ("edit_rejected", "edit"): "edit_pending",
    ("edit_rejected", "submit"): "edit_pending",
    ("edit_rejected", "withdraw"): "published",
    ("edit_rejected", "unpublish"): "rejected",
    ("edit_rejected", "archive"): "archived",
}

#: why a move is refused, in the provider's or curator's words
REFUSALS: dict[str, str] = {
    "edit": "This course is archived, so it can no longer be edited.",
    "submit": "This course is not a draft or a course sent back, so there is nothing to submit.",
    "withdraw": "Nothing of this course is waiting for review, so there is nothing to withdraw.",
    "approve": "This course is not waiting for review.",
    "reject": "This course is not waiting for review.",
    "unpublish": "Only a published course can be unpublished.",
    "archive": "This course is already archived.",
}


class _Course(Protocol):
    status: str
    pending_edit: str | None
    review_requested_at: object


def state_of(course: _Course) -> str:
    """The key of ``course``'s state in :data:`STATES`."""
    if course.status == "published" and course.pending_edit is not None:
        return "edit_pending" if course.review_requested_at is not None else "edit_rejected"
    return course.status


def allowed(course: _Course, action: str) -> bool:
    return (state_of(course), action) in TRANSITIONS


def next_state(course: _Course, action: str) -> str | None:
    """The state ``action`` leads to from ``course``'s state, or None when it is not allowed."""
    return TRANSITIONS.get((state_of(course), action))
