"""The states of a place in a cohort and the moves between them: the one table the services,
the pages' wording and the tests all read.

A learner's row for a cohort (:class:`academy.enrolment.models.Enrolment`) is in exactly one of
:data:`STATES`. It changes only through :data:`TRANSITIONS`, each named by the event that causes
it; ``academy.enrolment.services`` performs every change with a conditional UPDATE whose
``WHERE status IN (...)`` is the event's ``sources`` here, so a row that a racing request has
just moved is left alone. Pages name a state with :func:`label` (the Jinja filter
``place_state``), so every page says the same words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class State:
    name: str
    #: the words every page uses for this state (a learner reading about their own place)
    label: str
    #: a learner in this state is on the cohort (counts towards one place per course)
    active: bool
    #: holds one of the cohort's seats (counted in ``Cohort.seats_taken``)
    holds_seat: bool
    #: what the state means, for the provider's and the learner's help text
    meaning: str


STATES: dict[str, State] = {
    s.name: s
    for s in (
        State("requested", "Asked for a place", True, False,
              "asked for a place without the prerequisites; the provider decides"),
        State("waitlisted", "On the waitlist", True, False,
              "waiting for a place; places go to the waitlist first come, first served"),
        State("enrolled", "Has a place", True, True, "holds one of the cohort's places"),
        State("declined", "Request declined", False, False,
              "the provider could not offer a place"),
        State("withdrawn", "Withdrawn", False, False,
              "left the cohort, its waitlist or the request"),
        State("completed", "Completed", True, True,
              "the provider confirmed completion: a verified entry in the learning record"),
        State("not_completed", "Did not complete", False, True,
              "the provider recorded that the learner did not complete the cohort"),
        State("cancelled", "Cohort cancelled", False, False,
              "the provider cancelled the cohort; nobody holds a place on it"),
    )
}  # fmt: skip

#: states that hold a seat: ``Cohort.seats_taken`` counts exactly the rows in these states
SEAT_STATES = tuple(n for n, s in STATES.items() if s.holds_seat)
#: states in which the learner is on the cohort or waiting for it: a learner holds at most
#: one of these per course, unless the course allows repeats
ACTIVE = ("requested", "waitlisted", "enrolled")
#: states that stop the same learner starting again on the same cohort
BLOCKING = ACTIVE + ("completed",)
#: states that end with the cohort: nothing more happens unless a mark is undone
FINAL = ("declined", "withdrawn", "cancelled")
#: how long a provider may undo a completion mark, in days (the entry and credential go)
UNDO_DAYS = 30


@dataclass(frozen=True)
class Transition:
    event: str
    sources: tuple[str, ...]
    target: str
    #: who causes it
    by: str
    #: the learner is emailed when it happens
    mails: bool


#: ``None`` in ``sources`` is "no row yet" (a first enrolment)
TRANSITIONS: dict[str, Transition] = {
    t.event: t
    for t in (
        Transition("enrol", (None, "withdrawn", "declined"), "enrolled", "learner", True),
        Transition("wait", (None, "withdrawn", "declined"), "waitlisted", "learner", True),
        Transition("request", (None, "withdrawn", "declined"), "requested", "learner", True),
        Transition("approve", ("requested",), "waitlisted", "provider", False),
        Transition("decline", ("requested",), "declined", "provider", True),
        Transition("promote", ("waitlisted",), "enrolled", "system", True),
        Transition("withdraw", ("enrolled", "waitlisted", "requested"), "withdrawn", "learner",
                   True),
        Transition("move", ("enrolled", "waitlisted"), "withdrawn", "learner", True),
        Transition("complete", ("enrolled", "not_completed"), "completed", "provider", True),
        Transition("not_complete", ("enrolled", "completed"), "not_completed", "provider", True),
        Transition("undo", ("completed", "not_completed"), "enrolled", "provider", True),
        Transition("cancel", ("enrolled", "waitlisted", "requested"), "cancelled", "provider",
                   True),
        Transition("release", ("enrolled", "waitlisted", "requested"), "withdrawn", "system",
                   False),
    )
}  # fmt: skip


def sources(event: str) -> tuple[str, ...]:
    """The states ``event`` may start from (without the "no row yet" marker)."""
    return tuple(s for s in TRANSITIONS[event].sources if s is not None)


def target(event: str) -> str:
    return TRANSITIONS[event].target


def allowed(current: str | None, event: str) -> bool:
    """True when ``event`` may happen to a row in state ``current`` (None: no row yet)."""
    return current in TRANSITIONS[event].sources


def label(status: str) -> str:
    """The words every page uses for ``status`` ("Has a place", "Did not complete", ...)."""
    state = STATES.get(status)
    return state.label if state else status.replace("_", " ").capitalize()


def holds_seat(status: str) -> bool:
    return STATES[status].holds_seat
