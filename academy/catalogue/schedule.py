"""The date and time rules for cohorts and their sessions, in one place (UK local time).

Providers type dates and times on a UK wall clock (Europe/London); the database stores UTC.
Every way in (the cohort and session forms, the CSV import, the services behind them) turns the
wall-clock time into UTC with :func:`to_utc` and checks it with :func:`session_problem` and
:func:`closing_problem`, so the same rules hold everywhere:

- **Horizon.** A new or moved session starts between now and :data:`HORIZON_YEARS` years ahead
  (a cohort is planned at most three years out; anything else is a typing slip).
- **Together.** A session is within :data:`SPREAD_DAYS` days of the cohort's other sessions: a
  cohort is one run of a course, and a session a year away is a typo or a new cohort.
- **Enrolment closes** on or before the day of the first session.
- **Clocks go forward** (the last Sunday of March, 01:00 becomes 02:00): a time in the hour that
  does not exist is refused, with a message naming the gap. It is never moved for you.
- **Clocks go back** (the last Sunday of October, 02:00 becomes 01:00): a time between 01:00 and
  02:00 happens twice. The rule (:data:`AMBIGUOUS_RULE`): it means the *first* of the two, in
  British Summer Time (UTC+1). The forms say so, and the saved message repeats it.
- A stored time is never shifted: what is stored is exactly the moment :func:`to_utc` returned for
  what was typed, and the forms show it back the same way (:func:`to_local`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from academy.unit_of_work import DomainError

UK = ZoneInfo("Europe/London")
HORIZON_YEARS = 3
SPREAD_DAYS = 366
AMBIGUOUS_RULE = (
    "When the clocks go back (the last Sunday in October), a time from 01:00 to 01:59 happens"
    " twice; we take the first one, in British Summer Time (UTC+1)."
)


class ScheduleError(DomainError):
    """A date or time the rules refuse; the message says which rule and what to type."""


@dataclass(frozen=True)
class Moment:
    """A wall-clock time turned into UTC; ``ambiguous`` when the clocks-back rule chose."""

    utc: datetime
    ambiguous: bool = False


def format_date(value: datetime | date) -> str:
    """``Sun 28 March 2027`` on the UK calendar (no app needed: the CSV import runs anywhere)."""
    if isinstance(value, datetime):
        value = to_local(value)
    return f"{value:%a} {value.day} {value:%B %Y}"


def _wall(day: date, at: time, fold: int = 0) -> datetime:
    return datetime.combine(day, at, tzinfo=UK).replace(fold=fold)


def is_gap(day: date, at: time) -> bool:
    """True when ``at`` on ``day`` never shows on a UK clock (the clocks went forward)."""
    wall = _wall(day, at)
    back = wall.astimezone(UTC).astimezone(UK)
    return back.replace(tzinfo=None) != wall.replace(tzinfo=None)


def is_ambiguous(day: date, at: time) -> bool:
    """True when ``at`` on ``day`` shows twice on a UK clock (the clocks went back)."""
    return _wall(day, at, 0).utcoffset() != _wall(day, at, 1).utcoffset() and not is_gap(day, at)


def _gap_bounds(day: date) -> tuple[str, str]:
    """The wall-clock hour the clocks skip on ``day`` (``01:00``, ``02:00`` in the UK)."""
    start = next(h for h in range(24) if is_gap(day, time(h, 0)) or is_gap(day, time(h, 30)))
    end = next(h for h in range(start, 24) if not is_gap(day, time(h, 0)))
    return f"{start:02d}:00", f"{end:02d}:00"


def gap_message(day: date, at: time) -> str:
    start, end = _gap_bounds(day)
    return (
        f"{at:%H:%M} on {format_date(day)} does not exist in the UK: the clocks"
        f" go forward from {start} to {end} that night. Choose a time before {start} or from"
        f" {end}."
    )


def to_utc(day: date, at: time) -> Moment:
    """The UTC moment of ``at`` on ``day`` on a UK clock.

    :raise ScheduleError: the time does not exist (clocks forward); the message names the gap.
    An ambiguous time (clocks back) is the first of the two (:data:`AMBIGUOUS_RULE`).
    """
    if is_gap(day, at):
        raise ScheduleError(gap_message(day, at))
    ambiguous = is_ambiguous(day, at)
    return Moment(_wall(day, at, 0).astimezone(UTC), ambiguous)


def to_local(moment: datetime) -> datetime:
    """A stored moment on the UK wall clock (to fill a form in)."""
    return moment.astimezone(UK)


def horizon(now: datetime) -> datetime:
    """The latest a session may start: :data:`HORIZON_YEARS` years from ``now``."""
    return now + timedelta(days=365 * HORIZON_YEARS + 1)


def session_problem(
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    others: list[datetime] | tuple = (),
) -> str | None:
    """Why a new or moved session may not have these times, or None if it may.

    ``others`` are the start times of the cohort's other sessions.
    """
    if ends_at <= starts_at:
        return "The session must end after it starts."
    if ends_at - starts_at > timedelta(hours=24):
        return "A session lasts at most 24 hours: add a session for each day."
    if starts_at <= now:
        return "A new or moved session must start in the future."
    if starts_at > horizon(now):
        return (
            f"A session can be at most {HORIZON_YEARS} years ahead, so by"
            f" {format_date(horizon(now))}. Check the year."
        )
    for other in others:
        if abs(starts_at - other) > timedelta(days=SPREAD_DAYS):
            return (
                f"This session is more than a year from the cohort's session on"
                f" {format_date(other)}. A cohort's sessions belong together: check the year,"
                " or add a new cohort."
            )
    return None


def closing_problem(closes_at: datetime | None, first_start: datetime | None) -> str | None:
    """Why enrolment may not close at ``closes_at`` (None: when the first session starts)."""
    if closes_at is None or first_start is None:
        return None
    if to_local(closes_at).date() > to_local(first_start).date():
        return f"Enrolment must close on or before the first session, {format_date(first_start)}."
    return None


def require_session(starts_at: datetime, ends_at: datetime, now: datetime, others=()) -> None:
    """:raise ScheduleError: :func:`session_problem` has one."""
    problem = session_problem(starts_at, ends_at, now, others)
    if problem:
        raise ScheduleError(problem)


def require_closing(closes_at: datetime | None, first_start: datetime | None) -> None:
    """:raise ScheduleError: :func:`closing_problem` has one."""
    problem = closing_problem(closes_at, first_start)
    if problem:
        raise ScheduleError(problem)


def closing_moment(day: date) -> datetime:
    """Enrolment closing on ``day`` closes at 23:59 UK time that day (never in a gap)."""
    return to_utc(day, time(23, 59)).utc
