"""What each regulator counts, from a learner's entries: the numbers every view, export and test
shares.

Pure functions: entries, dates and ``today`` go in, frozen dataclasses come out. Nothing here
touches the database or Flask, so an export, a page and a test all get the same answer. An entry
is anything with the attributes of ``LearningRecordEntry`` (``counts``, ``completed_on``,
``started_on``, ``hours``, …). Withdrawn entries (``counts`` false) never count towards anything.

The rules that are ours rather than a regulator's, stated once:

* **Dates of an entry.** An entry runs from ``started_on`` (or its end date when no start is
  given, or when the start is after the end) to ``completed_on``, both days inclusive.
* **Hours across a boundary.** An entry whose days fall partly outside a period (the NMC's
  three-year window, an RCPsych CPD year, a calendar year on the dashboard) counts only the share
  of its hours for its days inside the period: its hours are spread evenly over its days. An
  entry from 30 April to 3 May with 8 hours, against a window starting on 1 May, counts 3 days
  of 4: 6 hours. Participatory hours are shared out the same way.
* **Participatory hours** count at most the entry's hours; an entry with no hours counts none.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

Entry = Any  # a LearningRecordEntry, or anything with its attributes

#: per-year tables (SWE, RCPsych, the dashboard) go back at most this many years before the
#: current one and forward at most one, so a mistyped date cannot make a table of centuries
MAX_YEARS_BACK = 30

# --- shared date and hours helpers --------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, kept to the last day of a shorter month
    (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes 28 February in other years."""
    return add_months(day, 12 * years)


def entry_span(entry: Entry) -> tuple[date, date]:
    """``(first day, last day)`` of an entry, both inclusive (see the module's rules)."""
    end = entry.completed_on
    start = entry.started_on
    if start is None or start > end:
        start = end
    return start, end


def share_within(entry: Entry, start: date, end: date) -> float:
    """The fraction (0 to 1) of the entry's days that fall between ``start`` and ``end``
    inclusive."""
    first, last = entry_span(entry)
    inside = (min(last, end) - max(first, start)).days + 1
    if inside <= 0:
        return 0.0
    return inside / ((last - first).days + 1)


def _amount(value: float | None) -> float:
    """Hours as a finite, non-negative number (anything else counts as none)."""
    if value is None:
        return 0.0
    value = float(value)
    return value if math.isfinite(value) and value > 0 else 0.0


def _hours(entry: Entry) -> float:
    return _amount(entry.hours)


def _participatory(entry: Entry) -> float:
    return min(_amount(entry.participatory_hours), _hours(entry))


def _round(value: float) -> float:
    return round(value + 0.0, 2)


def counting(entries: Iterable[Entry]) -> list[Entry]:
    """The entries that count (withdrawn ones are left out), oldest first (by start, then end,
    then id)."""
    kept = [e for e in entries if e.counts]
    return sorted(kept, key=lambda e: (*entry_span(e), e.id or 0))


# --- NMC ----------------------------------------------------------------------------------------

NMC_HOURS = 35
NMC_PARTICIPATORY_HOURS = 20
NMC_REFLECTIVE_ACCOUNTS = 5
NMC_YEARS = 3
NMC_THEME_PREFIX = "nmc-"


@dataclass(frozen=True)
class NmcLogRow:
    """One entry in the NMC CPD log, with the hours it counts inside the window."""

    entry: Entry
    hours: float
    participatory_hours: float
    prorated: bool  # true when the entry straddles the window edge and counts only a share
    missing: tuple[str, ...]  # the CPD log fields the entry lacks


@dataclass(frozen=True)
class NmcSummary:
    window_start: date
    window_end: date
    #: false when the learner has not given their revalidation date: the window then ends today
    date_given: bool
    hours: float
    participatory_hours: float
    hours_short: float
    participatory_short: float
    log: tuple[NmcLogRow, ...]
    #: confirmed written reflective accounts ending in the window (those the NMC counts)
    accounts: tuple[Entry, ...]
    accounts_short: int
    #: reflective accounts in the window the learner has not yet confirmed as free of anything
    #: that identifies a person (they do not count until confirmed)
    unconfirmed_accounts: tuple[Entry, ...]

    @property
    def incomplete(self) -> tuple[NmcLogRow, ...]:
        """Log rows lacking a field the NMC CPD log needs."""
        return tuple(row for row in self.log if row.missing)

    @property
    def met(self) -> bool:
        return (
            self.hours_short == 0
            and self.participatory_short == 0
            and self.accounts_short == 0
            and not self.incomplete
        )


def nmc_window(revalidation_on: date | None, today: date) -> tuple[date, date]:
    """The three years ending on ``revalidation_on`` (or ``today`` when it is not given):
    from the day after the same date three years earlier to the end date, both inclusive."""
    end = revalidation_on or today
    return add_years(end, -NMC_YEARS) + timedelta(days=1), end


def nmc_missing_fields(entry: Entry) -> tuple[str, ...]:
    """The NMC CPD log fields an entry lacks, in the form's order."""
    missing = []
    if not entry.method:
        missing.append("method")
    if not (entry.relevance or "").strip():
        missing.append("topic and relevance to practice")
    if entry.hours is None:
        missing.append("hours")
    if not any(theme.startswith(NMC_THEME_PREFIX) for theme in entry.themes or ()):
        missing.append("part of the Code")
    return tuple(missing)


def nmc_summary(entries: Iterable[Entry], revalidation_on: date | None, today: date) -> NmcSummary:
    """Where a nurse or midwife stands for revalidation.

    The window is the three years ending on ``revalidation_on`` (``nmc_window``). Hours: 35 of
    CPD, of which 20 participatory, counting for an entry that straddles the window edge only
    the share of its hours for its days inside the window (spread evenly over its days, start
    and end inclusive). Reflective accounts: 5 entries marked ``is_reflective_account``, whose
    reflection the learner has confirmed (``reflection_confirmed_at``), ending inside the
    window. Withdrawn entries never count.
    """
    start, end = nmc_window(revalidation_on, today)
    log, accounts, unconfirmed = [], [], []
    total = participatory = 0.0
    for entry in counting(entries):
        share = share_within(entry, start, end)
        if share == 0:
            continue
        hours = _hours(entry) * share
        part = _participatory(entry) * share
        total += hours
        participatory += part
        log.append(
            NmcLogRow(
                entry=entry,
                hours=_round(hours),
                participatory_hours=_round(part),
                prorated=share < 1,
                missing=nmc_missing_fields(entry),
            )
        )
        if entry.is_reflective_account and start <= entry.completed_on <= end:
            if entry.reflection_confirmed_at is not None:
                accounts.append(entry)
            else:
                unconfirmed.append(entry)
    total, participatory = _round(total), _round(participatory)
    return NmcSummary(
        window_start=start,
        window_end=end,
        date_given=revalidation_on is not None,
        hours=total,
        participatory_hours=participatory,
        hours_short=_round(max(0.0, NMC_HOURS - total)),
        participatory_short=_round(max(0.0, NMC_PARTICIPATORY_HOURS - participatory)),
        log=tuple(log),
        accounts=tuple(accounts),
        accounts_short=max(0, NMC_REFLECTIVE_ACCOUNTS - len(accounts)),
        unconfirmed_accounts=tuple(unconfirmed),
    )


# --- HCPC ---------------------------------------------------------------------------------------

HCPC_GAP_MONTHS = 3
HCPC_SUMMARY_WORDS = 500
HCPC_STATEMENT_WORDS = 1500
HCPC_PROFILE_MIN = 4
HCPC_PROFILE_MAX = 6


@dataclass(frozen=True)
class HcpcGap:
    """A stretch of three calendar months or more with no CPD: it needs an explanation.

    ``after`` is the entry before the gap; ``before`` the entry after it (``None`` for the gap
    that runs to today). ``start`` is the day after the last learning ended; ``end`` the day
    before the next began (today for the last gap).
    """

    after: Entry
    before: Entry | None
    start: date
    end: date
    months: int  # whole calendar months in the gap


@dataclass(frozen=True)
class HcpcRecord:
    entries: tuple[Entry, ...]  # oldest first
    gaps: tuple[HcpcGap, ...]

    def gap_after(self, entry: Entry) -> HcpcGap | None:
        return next((g for g in self.gaps if g.after is entry), None)


def whole_months_between(first: date, second: date) -> int:
    """How many whole calendar months from ``first`` to ``second`` (0 if ``second`` is not
    later)."""
    months = (second.year - first.year) * 12 + second.month - first.month
    while months > 0 and add_months(first, months) > second:
        months -= 1
    return max(0, months)


def _is_hcpc_gap(last_end: date, next_start: date) -> bool:
    return next_start >= add_months(last_end, HCPC_GAP_MONTHS)


def _gap(after: Entry | None, ended: date, before: Entry | None, next_day: date) -> HcpcGap:
    """The gap from the day after ``ended`` to the day before ``next_day`` (the next entry's
    start) or to ``next_day`` itself when it is today (no entry follows)."""
    return HcpcGap(
        after=after,
        before=before,
        start=ended + timedelta(days=1),
        end=next_day - timedelta(days=1) if before is not None else next_day,
        months=whole_months_between(ended, next_day),
    )


def hcpc_record(entries: Iterable[Entry], today: date) -> HcpcRecord:
    """The dated chronological CPD record (oldest first) and its gaps.

    A gap is flagged when the next entry starts three calendar months or more after the latest
    end so far (15 January to 15 April is a gap; 15 January to 14 April, two months and 30 days,
    is not), and likewise from the last entry's end to ``today``. Overlapping entries never make
    a gap. Withdrawn entries are left out.
    """
    kept = counting(entries)
    gaps = []
    latest_end: date | None = None
    latest: Entry | None = None
    for entry in kept:
        first, last = entry_span(entry)
        if latest_end is not None and _is_hcpc_gap(latest_end, first):
            gaps.append(_gap(latest, latest_end, entry, first))
        if latest_end is None or last >= latest_end:
            latest_end, latest = last, entry
    if latest_end is not None and _is_hcpc_gap(latest_end, today):
        gaps.append(_gap(latest, latest_end, None, today))
    return HcpcRecord(entries=tuple(kept), gaps=tuple(gaps))


@dataclass(frozen=True)
class HcpcActivity:
    entry: Entry
    learnt: str
    improved: str  # how it improved the learner's work (change to practice)
    benefit: str  # how it benefited service users (impact)


@dataclass(frozen=True)
class HcpcProfile:
    """The skeleton of an HCPC CPD profile, with starting points from the learner's record."""

    activities: tuple[HcpcActivity, ...]  # the most recent, newest first (at most 6)
    summary_words: int = HCPC_SUMMARY_WORDS
    statement_words: int = HCPC_STATEMENT_WORDS
    minimum: int = HCPC_PROFILE_MIN
    maximum: int = HCPC_PROFILE_MAX

    @property
    def activities_short(self) -> int:
        return max(0, self.minimum - len(self.activities))

    @property
    def draft_words(self) -> int:
        """Words already in the pre-filled statement text (against the 1,500 limit)."""
        return sum(
            word_count(a.learnt) + word_count(a.improved) + word_count(a.benefit)
            for a in self.activities
        )


def word_count(text: str) -> int:
    return len((text or "").split())


def hcpc_profile(entries: Iterable[Entry]) -> HcpcProfile:
    """The learner's 4–6 most recent counting entries (as many as there are, up to 6), newest
    first, with what they learnt, how it changed their practice and its impact pre-filled as
    starting points for the statement."""
    recent = sorted(counting(entries), key=lambda e: (e.completed_on, e.id or 0), reverse=True)[
        :HCPC_PROFILE_MAX
    ]
    return HcpcProfile(
        activities=tuple(
            HcpcActivity(
                entry=e,
                learnt=(e.learnt or "").strip(),
                improved=(e.change_to_practice or "").strip(),
                benefit=(e.impact or "").strip(),
            )
            for e in recent
        )
    )


# --- Social Work England ------------------------------------------------------------------------

SWE_RECORDS = 2
SWE_PEER_RECORDS = 1


@dataclass(frozen=True)
class SweYear:
    """One registration year, 1 December to 30 November."""

    start: date
    end: date
    entries: tuple[Entry, ...]
    peer_reflected: tuple[Entry, ...]
    current: bool

    @property
    def label(self) -> str:
        return f"{self.start.year} to {self.end.year}"

    @property
    def records_short(self) -> int:
        return max(0, SWE_RECORDS - len(self.entries))

    @property
    def peer_short(self) -> int:
        return max(0, SWE_PEER_RECORDS - len(self.peer_reflected))

    @property
    def met(self) -> bool:
        return self.records_short == 0 and self.peer_short == 0


def swe_year_start(day: date) -> date:
    """The first day (1 December) of the registration year ``day`` falls in."""
    return date(day.year if day.month == 12 else day.year - 1, 12, 1)


def has_peer_reflection(entry: Entry) -> bool:
    return bool((entry.peer_reflection or "").strip() or (entry.peer_role or "").strip())


def swe_years(entries: Iterable[Entry], today: date) -> tuple[SweYear, ...]:
    """Every registration year from the learner's first entry to the current one, newest first.

    An entry belongs to the year its learning ended in. A year is met with at least 2 entries,
    at least one of them with peer reflection (``peer_reflection`` or ``peer_role`` given).
    """
    kept = counting(entries)
    current = swe_year_start(today)
    first = min((swe_year_start(e.completed_on) for e in kept), default=current)
    last = max((swe_year_start(e.completed_on) for e in kept), default=current)
    first, last = max(first, add_years(current, -MAX_YEARS_BACK)), min(last, add_years(current, 1))
    years = []
    start = min(first, current)
    while start <= max(current, last):
        end = date(start.year + 1, 11, 30)
        inside = tuple(e for e in kept if start <= e.completed_on <= end)
        years.append(
            SweYear(
                start=start,
                end=end,
                entries=inside,
                peer_reflected=tuple(e for e in inside if has_peer_reflection(e)),
                current=start == current,
            )
        )
        start = date(start.year + 1, 12, 1)
    return tuple(reversed(years))


# --- RCPsych ------------------------------------------------------------------------------------

RCPSYCH_HOURS = 50
RCPSYCH_CLINICAL_HOURS = 30
#: The RCPsych lets each psychiatrist choose the start date of their 12-month CPD Submissions
#: cycle, and the domain notes name none; with no such date in the profile, the CPD year here is
#: the calendar year. ``rcpsych_years`` takes another start month and day for when one is kept.
RCPSYCH_YEAR_START = (1, 1)


@dataclass(frozen=True)
class RcpsychYear:
    start: date
    end: date
    hours: float
    clinical: float
    non_clinical: float
    unclassified: float  # hours whose entry does not say clinical or not
    entries: tuple[Entry, ...]
    without_hours: tuple[Entry, ...]
    current: bool

    @property
    def label(self) -> str:
        if (self.start.month, self.start.day) == (1, 1):
            return str(self.start.year)
        return f"{self.start.day} {self.start:%B %Y} to {self.end.day} {self.end:%B %Y}"

    @property
    def hours_short(self) -> float:
        return _round(max(0.0, RCPSYCH_HOURS - self.hours))

    @property
    def clinical_short(self) -> float:
        return _round(max(0.0, RCPSYCH_CLINICAL_HOURS - self.clinical))

    @property
    def met(self) -> bool:
        return self.hours_short == 0 and self.clinical_short == 0


def _year_start(day: date, month: int, dom: int) -> date:
    candidate = date(day.year, month, dom)
    return candidate if candidate <= day else date(day.year - 1, month, dom)


def rcpsych_years(
    entries: Iterable[Entry], today: date, *, start: tuple[int, int] = RCPSYCH_YEAR_START
) -> tuple[RcpsychYear, ...]:
    """Hours per CPD year against the RCPsych's 50 (30 clinical), newest first, from the year of
    the learner's first entry to the current one.

    Clinical hours are those of entries with ``clinical`` true; ``clinical`` false is
    non-clinical; ``None`` is unclassified (it counts to the total but not to the 30). An entry
    that straddles the year boundary is shared out by its days.
    """
    month, dom = start
    kept = counting(entries)
    current = _year_start(today, month, dom)
    first = min((_year_start(entry_span(e)[0], month, dom) for e in kept), default=current)
    last = max((_year_start(e.completed_on, month, dom) for e in kept), default=current)
    first, last = max(first, add_years(current, -MAX_YEARS_BACK)), min(last, add_years(current, 1))
    years = []
    year_start = min(first, current)
    while year_start <= max(last, current):
        year_end = add_years(year_start, 1) - timedelta(days=1)
        totals = {True: 0.0, False: 0.0, None: 0.0}
        inside, without = [], []
        for entry in kept:
            share = share_within(entry, year_start, year_end)
            if share == 0:
                continue
            inside.append(entry)
            if entry.hours is None:
                without.append(entry)
            totals[entry.clinical] += _hours(entry) * share
        years.append(
            RcpsychYear(
                start=year_start,
                end=year_end,
                hours=_round(sum(totals.values())),
                clinical=_round(totals[True]),
                non_clinical=_round(totals[False]),
                unclassified=_round(totals[None]),
                entries=tuple(inside),
                without_hours=tuple(without),
                current=year_start == current,
            )
        )
        year_start = add_years(year_start, 1)
    return tuple(reversed(years))


# --- the dashboard's counts ---------------------------------------------------------------------


@dataclass(frozen=True)
class YearHours:
    year: int
    participatory: float
    other: float

    @property
    def total(self) -> float:
        return _round(self.participatory + self.other)


def hours_by_year(entries: Iterable[Entry]) -> tuple[YearHours, ...]:
    """CPD hours per calendar year, participatory and other, oldest first, every year from the
    first to the last with hours (years between with none are included as zero). An entry that
    spans a new year is shared out by its days."""
    kept = [e for e in counting(entries) if _hours(e) > 0]
    if not kept:
        return ()
    first = min(entry_span(e)[0].year for e in kept)
    last = max(entry_span(e)[1].year for e in kept)
    first = max(first, last - MAX_YEARS_BACK)
    result = []
    for year in range(first, last + 1):
        start, end = date(year, 1, 1), date(year, 12, 31)
        part = other = 0.0
        for entry in kept:
            share = share_within(entry, start, end)
            part += _participatory(entry) * share
            other += (_hours(entry) - _participatory(entry)) * share
        result.append(YearHours(year=year, participatory=_round(part), other=_round(other)))
    return tuple(result)


@dataclass(frozen=True)
class PrincipleCount:
    slug: str
    name: str
    entries: int


def principle_coverage(
    entries: Iterable[Entry], principles: Sequence[tuple[str, str]]
) -> tuple[PrincipleCount, ...]:
    """For each charter principle ``(slug, name)``, in the order given, how many counting
    entries cover it. Slugs an entry names that are not in ``principles`` are ignored."""
    tally = dict.fromkeys((slug for slug, _ in principles), 0)
    for entry in counting(entries):
        for slug in set(entry.principles or ()):
            if slug in tally:
                tally[slug] += 1
    return tuple(PrincipleCount(slug, name, tally[slug]) for slug, name in principles)
