"""The regulators' numbers (``portfolio/dashboard/regulators.py``), each worked out by hand below.

The entries are unsaved ``LearningRecordEntry`` objects: the functions are pure, so no database
is needed.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from academy.portfolio.dashboard import regulators as r
from academy.portfolio.models import LearningRecordEntry

_ids = itertools.count(1)
CONFIRMED = datetime(2026, 1, 1, tzinfo=UTC)
WITHDRAWN = datetime(2026, 2, 1, tzinfo=UTC)


def entry(completed: date, hours: float | None = None, **fields) -> LearningRecordEntry:
    values = {
        "title": f"Entry {next(_ids)}",
        "started_on": None,
        "participatory_hours": None,
        "clinical": None,
        "method": "",
        "relevance": "",
        "learnt": "",
        "change_to_practice": "",
        "impact": "",
        "peer_name": "",
        "peer_role": "",
        "peer_reflection": "",
        "themes": [],
        "principles": [],
        "is_reflective_account": False,
        "reflection_confirmed_at": None,
        "verified": False,
        "withdrawn_at": None,
    }
    values.update(fields)
    return LearningRecordEntry(
        id=next(_ids),
        completed_at=datetime(completed.year, completed.month, completed.day, tzinfo=UTC),
        hours=hours,
        **values,
    )


COMPLETE_NMC = {
    "method": "course",
    "relevance": "De-escalation on the ward",
    "themes": ["nmc-preserve-safety"],
}


# --- shared helpers -----------------------------------------------------------------------------


def test_add_months_keeps_to_the_end_of_a_short_month():
    assert r.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert r.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert r.add_months(date(2025, 11, 15), 3) == date(2026, 2, 15)
    assert r.add_months(date(2025, 3, 15), -3) == date(2024, 12, 15)
    assert r.add_years(date(2028, 2, 29), -3) == date(2025, 2, 28)


def test_hours_that_are_not_a_finite_positive_number_count_as_none():
    odd = [
        entry(date(2025, 5, 1), float("inf"), participatory_hours=float("nan")),
        entry(date(2025, 5, 2), float("nan")),
        entry(date(2025, 5, 3), 2, participatory_hours=float("inf")),
    ]
    summary = r.nmc_summary(odd, date(2026, 1, 1), today=date(2026, 1, 1))
    # only the third entry's 2 hours count; its infinite participatory hours count as none
    assert (summary.hours, summary.participatory_hours) == (2, 0)
    assert [(y.year, y.participatory, y.other) for y in r.hours_by_year(odd)] == [(2025, 0, 2)]


def test_an_entry_with_a_start_after_its_end_is_one_day_long():
    odd = entry(date(2025, 5, 1), 6, started_on=date(2025, 6, 1))
    assert r.entry_span(odd) == (date(2025, 5, 1), date(2025, 5, 1))
    assert r.share_within(odd, date(2025, 5, 1), date(2025, 5, 1)) == 1


# --- NMC ----------------------------------------------------------------------------------------


def nmc_entries():
    return {
        # verified course, complete log fields, a confirmed reflective account: 7 h, 7 participatory
        "course": entry(
            date(2025, 3, 10),
            7,
            participatory_hours=7,
            verified=True,
            is_reflective_account=True,
            reflection_confirmed_at=CONFIRMED,
            **COMPLETE_NMC,
        ),
        # self-recorded e-learning: 3 h, none participatory; lacks relevance and a Code theme
        "elearning": entry(date(2025, 6, 1), 3, method="e-learning"),
        # straddles the window start (1 May 2024): 28 April to 3 May is 6 days, 3 inside, so
        # half of 12 h = 6 h and half of 6 participatory = 3
        "straddle": entry(
            date(2024, 5, 3),
            12,
            started_on=date(2024, 4, 28),
            participatory_hours=6,
            verified=True,
            **COMPLETE_NMC,
        ),
        # withdrawn: 20 h that never count
        "withdrawn": entry(
            date(2026, 1, 10), 20, participatory_hours=20, verified=True, withdrawn_at=WITHDRAWN
        ),
        # the day before the window: out
        "before": entry(date(2024, 4, 30), 10, participatory_hours=10, **COMPLETE_NMC),
        # supervision, 14.5 h of which 8 participatory, a second confirmed account
        "supervision": entry(
            date(2026, 9, 1),
            14.5,
            participatory_hours=8,
            is_reflective_account=True,
            reflection_confirmed_at=CONFIRMED,
            **COMPLETE_NMC,
        ),
        # an account not yet confirmed: its hour counts, the account does not
        "draft_account": entry(date(2026, 10, 1), 1, is_reflective_account=True, **COMPLETE_NMC),
        # after the revalidation date: out
        "after": entry(date(2027, 5, 1), 5, participatory_hours=5, **COMPLETE_NMC),
        # participatory recorded above the hours: counts at most the 2 hours
        "over": entry(date(2026, 12, 1), 2, participatory_hours=5, **COMPLETE_NMC),
        # no hours at all: counts nothing and is flagged
        "no_hours": entry(date(2026, 12, 2), None, participatory_hours=3, **COMPLETE_NMC),
    }


def test_nmc_counts_the_three_years_ending_on_the_revalidation_date():
    entries = nmc_entries()
    summary = r.nmc_summary(entries.values(), date(2027, 4, 30), today=date(2026, 6, 15))
    assert (summary.window_start, summary.window_end) == (date(2024, 5, 1), date(2027, 4, 30))
    assert summary.date_given
    # 7 + 3 + 6 + 14.5 + 1 + 2 + 0 = 33.5 hours: 1.5 short of 35
    assert summary.hours == 33.5
    assert summary.hours_short == 1.5
    # 7 + 0 + 3 + 8 + 0 + 2 + 0 = 20 participatory: none short
    assert summary.participatory_hours == 20
    assert summary.participatory_short == 0
    # two confirmed accounts of five; the unconfirmed one is listed apart
    assert summary.accounts == (entries["course"], entries["supervision"])
    assert summary.accounts_short == 3
    assert summary.unconfirmed_accounts == (entries["draft_account"],)
    assert not summary.met


def test_nmc_log_is_oldest_first_and_says_what_each_entry_lacks():
    entries = nmc_entries()
    summary = r.nmc_summary(entries.values(), date(2027, 4, 30), today=date(2026, 6, 15))
    by_entry = {row.entry.title: row for row in summary.log}
    assert [row.entry for row in summary.log] == [
        entries[k]
        for k in (
            "straddle",
            "course",
            "elearning",
            "supervision",
            "draft_account",
            "over",
            "no_hours",
        )
    ]
    straddle = by_entry[entries["straddle"].title]
    assert (straddle.hours, straddle.participatory_hours, straddle.prorated) == (6, 3, True)
    assert not by_entry[entries["course"].title].prorated
    assert by_entry[entries["elearning"].title].missing == (
        "topic and relevance to practice",
        "part of the Code",
    )
    assert by_entry[entries["no_hours"].title].missing == ("hours",)
    assert [row.entry for row in summary.incomplete] == [entries["elearning"], entries["no_hours"]]


def test_nmc_is_met_with_35_hours_20_participatory_and_five_confirmed_accounts():
    accounts = [
        entry(
            date(2025, m, 1),
            7,
            participatory_hours=4,
            is_reflective_account=True,
            reflection_confirmed_at=CONFIRMED,
            **COMPLETE_NMC,
        )
        for m in range(1, 6)
    ]
    summary = r.nmc_summary(accounts, date(2026, 4, 1), today=date(2026, 1, 1))
    # 5 x 7 = 35 hours, 5 x 4 = 20 participatory, 5 accounts
    assert (summary.hours, summary.participatory_hours, len(summary.accounts)) == (35, 20, 5)
    assert summary.met


def test_nmc_without_a_date_ends_the_window_today():
    summary = r.nmc_summary([], None, today=date(2026, 6, 15))
    assert (summary.window_start, summary.window_end) == (date(2023, 6, 16), date(2026, 6, 15))
    assert not summary.date_given
    assert (summary.hours_short, summary.participatory_short, summary.accounts_short) == (35, 20, 5)


def test_nmc_window_from_29_february():
    # three years before 29 February 2028 is 28 February 2025; the window starts the day after
    assert r.nmc_window(date(2028, 2, 29), date(2026, 1, 1)) == (
        date(2025, 3, 1),
        date(2028, 2, 29),
    )


# --- HCPC ---------------------------------------------------------------------------------------


def hcpc_entries():
    return {
        "jan": entry(date(2025, 1, 15), 2, learnt="Jan learnt"),
        # 15 January + 2 months = 15 March, + 30 days = 14 April: 2 months 30 days, no gap
        "apr": entry(date(2025, 4, 14), 2),
        # would fill the next gap, but it is withdrawn
        "withdrawn": entry(date(2025, 5, 30), 2, verified=True, withdrawn_at=WITHDRAWN),
        # 14 April + 3 months = 14 July: exactly three months, a gap
        "jul": entry(date(2025, 7, 14), 2),
        # a long entry, 20 July to 1 December, and one inside it: no gap between them
        "long": entry(date(2025, 12, 1), 30, started_on=date(2025, 7, 20)),
        "inside": entry(date(2025, 8, 1), 1, impact="Inside impact"),
    }


def test_hcpc_record_is_chronological_and_flags_gaps_of_three_months_or_more():
    entries = hcpc_entries()
    record = r.hcpc_record(entries.values(), today=date(2026, 2, 28))
    assert record.entries == tuple(entries[k] for k in ("jan", "apr", "jul", "long", "inside"))
    assert len(record.gaps) == 1
    gap = record.gaps[0]
    assert (gap.after, gap.before) == (entries["apr"], entries["jul"])
    assert (gap.start, gap.end, gap.months) == (date(2025, 4, 15), date(2025, 7, 13), 3)
    assert record.gap_after(entries["apr"]) is gap
    assert record.gap_after(entries["jan"]) is None


def test_hcpc_flags_the_gap_from_the_last_entry_to_today():
    entries = hcpc_entries()
    # the latest end is 1 December 2025 (the long entry, not the one inside it that ends on
    # 1 August); 1 December + 3 months = 1 March 2026
    record = r.hcpc_record(entries.values(), today=date(2026, 3, 1))
    last = record.gaps[-1]
    assert (last.after, last.before) == (entries["long"], None)
    assert (last.start, last.end, last.months) == (date(2025, 12, 2), date(2026, 3, 1), 3)


def test_hcpc_record_of_nothing_has_no_gaps():
    record = r.hcpc_record([], today=date(2026, 3, 1))
    assert record.entries == () and record.gaps == ()


def test_hcpc_profile_offers_the_six_most_recent_with_their_text():
    entries = list(hcpc_entries().values())
    entries.append(entry(date(2026, 1, 5), 1, learnt="  What I learnt  ", change_to_practice="x"))
    entries.append(entry(date(2026, 1, 6), 1))
    profile = r.hcpc_profile(entries)
    # 8 entries, one withdrawn: the 6 newest of the other 7, newest first ("jan" is left out)
    titles = [a.entry.completed_on for a in profile.activities]
    assert titles == [
        date(2026, 1, 6),
        date(2026, 1, 5),
        date(2025, 12, 1),
        date(2025, 8, 1),
        date(2025, 7, 14),
        date(2025, 4, 14),
    ]
    assert profile.activities[1].learnt == "What I learnt"
    assert profile.activities[3].benefit == "Inside impact"
    assert profile.activities_short == 0
    # "What I learnt" (3 words) + "x" (1) + "Inside impact" (2)
    assert profile.draft_words == 6
    assert (profile.summary_words, profile.statement_words) == (500, 1500)


def test_hcpc_profile_says_how_many_more_activities_it_needs():
    profile = r.hcpc_profile([entry(date(2025, 1, 1), 1), entry(date(2025, 2, 1), 1)])
    assert profile.activities_short == 2


# --- Social Work England ------------------------------------------------------------------------


def test_swe_years_run_from_1_december_to_30_november():
    entries = {
        # 30 November 2024 ends the 2023-24 year
        "nov30": entry(date(2024, 11, 30), 1),
        "withdrawn_peer": entry(
            date(2024, 6, 1), 1, peer_reflection="Talked it through", withdrawn_at=WITHDRAWN
        ),
        # 1 December 2024 starts the 2024-25 year; a peer's role is enough for peer reflection
        "dec1": entry(date(2024, 12, 1), 1, peer_role="Senior social worker"),
        "nov30_next": entry(date(2025, 11, 30), 1),
        # the current year (today is 10 January 2026): one entry with peer reflection only
        "current": entry(date(2026, 1, 5), 1, peer_reflection="With my supervisor"),
    }
    years = r.swe_years(entries.values(), today=date(2026, 1, 10))
    assert [y.label for y in years] == ["2025 to 2026", "2024 to 2025", "2023 to 2024"]
    current, last, before = years
    assert current.current and not last.current
    assert (current.start, current.end) == (date(2025, 12, 1), date(2026, 11, 30))
    # current: 1 entry, 1 with peer reflection: one record short
    assert (len(current.entries), len(current.peer_reflected)) == (1, 1)
    assert (current.records_short, current.peer_short, current.met) == (1, 0, False)
    # 2024-25: the 1 December and the 30 November 2025 entries, one with a peer: met
    assert last.entries == (entries["dec1"], entries["nov30_next"])
    assert last.peer_reflected == (entries["dec1"],)
    assert last.met
    # 2023-24: only 30 November 2024 (the withdrawn peer entry does not count): not met
    assert before.entries == (entries["nov30"],)
    assert (before.records_short, before.peer_short, before.met) == (1, 1, False)


def test_swe_shows_the_current_year_for_a_new_learner_and_empty_years_between():
    assert [y.label for y in r.swe_years([], today=date(2025, 12, 1))] == ["2025 to 2026"]
    years = r.swe_years([entry(date(2023, 1, 1), 1)], today=date(2025, 6, 1))
    assert [(y.label, len(y.entries)) for y in years] == [
        ("2024 to 2025", 0),
        ("2023 to 2024", 0),
        ("2022 to 2023", 1),
    ]


# --- RCPsych ------------------------------------------------------------------------------------


def test_rcpsych_counts_clinical_and_other_hours_per_calendar_year():
    entries = {
        "clinical": entry(date(2025, 3, 1), 20, clinical=True, verified=True),
        "non_clinical": entry(date(2025, 4, 1), 10, clinical=False),
        "unclassified": entry(date(2025, 5, 1), 5),
        # 30 December to 2 January, 4 days, 12 h: 6 h in each year
        "new_year": entry(date(2026, 1, 2), 12, started_on=date(2025, 12, 30), clinical=True),
        "withdrawn": entry(date(2025, 6, 1), 40, clinical=True, withdrawn_at=WITHDRAWN),
        "no_hours": entry(date(2025, 5, 5), None, clinical=True),
        "clinical_2026": entry(date(2026, 2, 1), 30, clinical=True),
        "other_2026": entry(date(2026, 2, 2), 15, clinical=False),
    }
    this_year, last_year = r.rcpsych_years(entries.values(), today=date(2026, 3, 1))
    # 2025: clinical 20 + 6 = 26, non-clinical 10, unclassified 5: 41 in all
    assert last_year.label == "2025"
    assert (last_year.hours, last_year.clinical) == (41, 26)
    assert (last_year.non_clinical, last_year.unclassified) == (10, 5)
    assert (last_year.hours_short, last_year.clinical_short, last_year.met) == (9, 4, False)
    assert last_year.without_hours == (entries["no_hours"],)
    assert entries["withdrawn"] not in last_year.entries
    # 2026: clinical 6 + 30 = 36, non-clinical 15: 51 in all, met
    assert this_year.current
    assert (this_year.hours, this_year.clinical, this_year.non_clinical) == (51, 36, 15)
    assert this_year.met


def test_rcpsych_year_can_start_on_another_day():
    years = r.rcpsych_years(
        [entry(date(2025, 3, 31), 10, clinical=True), entry(date(2025, 4, 1), 5, clinical=True)],
        today=date(2025, 6, 1),
        start=(4, 1),
    )
    assert [(y.label, y.clinical) for y in years] == [
        ("1 April 2025 to 31 March 2026", 5),
        ("1 April 2024 to 31 March 2025", 10),
    ]


# --- the dashboard's counts ---------------------------------------------------------------------


def test_hours_by_year_splits_participatory_and_other():
    entries = [
        entry(date(2023, 6, 1), 10, participatory_hours=4),
        # 31 December 2024 to 1 January 2025: 2 days, 6 h (2 participatory) shared equally
        entry(date(2025, 1, 1), 6, started_on=date(2024, 12, 31), participatory_hours=2),
        entry(date(2025, 2, 1), 3, participatory_hours=3, withdrawn_at=WITHDRAWN),
        entry(date(2025, 3, 1), None),
    ]
    years = r.hours_by_year(entries)
    assert [(y.year, y.participatory, y.other, y.total) for y in years] == [
        (2023, 4, 6, 10),
        (2024, 1, 2, 3),
        (2025, 1, 2, 3),
    ]
    assert r.hours_by_year([]) == ()


def test_principle_coverage_counts_entries_per_principle():
    principles = [("belonging", "Belonging and connection"), ("safety", "Safety and confidence")]
    entries = [
        entry(date(2025, 1, 1), 1, principles=["safety", "safety", "unknown"]),
        entry(date(2025, 2, 1), 1, principles=["safety", "belonging"]),
        entry(date(2025, 3, 1), 1, principles=["belonging"], withdrawn_at=WITHDRAWN),
    ]
    coverage = r.principle_coverage(entries, principles)
    assert [(c.slug, c.name, c.entries) for c in coverage] == [
        ("belonging", "Belonging and connection", 1),
        ("safety", "Safety and confidence", 2),
    ]


@pytest.mark.parametrize(
    ("first", "second", "months"),
    [
        (date(2025, 1, 15), date(2025, 4, 15), 3),
        (date(2025, 1, 15), date(2025, 4, 14), 2),
        (date(2025, 1, 31), date(2025, 4, 30), 3),
        (date(2025, 4, 14), date(2025, 1, 1), 0),
    ],
)
def test_whole_months_between(first, second, months):
    assert r.whole_months_between(first, second) == months
