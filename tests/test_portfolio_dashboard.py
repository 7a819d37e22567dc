"""The portfolio dashboard (charts, recommendations) and the regulator views."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from academy.accounts.models import User
from academy.enrolment.models import Enrolment
from academy.extensions import db

WITHDRAWN = datetime(2026, 2, 1, tzinfo=UTC)


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def assert_csp_clean(html: str) -> None:
    """No inline script or style of any kind: the pages must survive a strict CSP."""
    assert "<script" not in html
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)


def complete(user, course, make_cohort, make_entry, **fields):
    """A completed enrolment on ``course`` and the verified entry it writes."""
    cohort = make_cohort(course, days=-60)
    db.session.add(Enrolment(user_id=user.id, cohort_id=cohort.id, status="completed"))
    db.session.commit()
    return make_entry(
        user,
        course.title,
        course_id=course.id,
        provider_id=course.provider_id,
        provider_name=course.provider.name,
        verified=True,
        **fields,
    )


# --- the dashboard ------------------------------------------------------------------------------


def test_a_new_learner_sees_empty_states_and_courses_to_start_with(
    client, login, make_user, make_course, make_cohort
):
    intro = make_course("Five Minute Intervention", step=0)
    make_cohort(intro, days=10)
    make_course("KUF Awareness", step=1)
    login(client, make_user())
    html = page(client.get("/portfolio/dashboard"))
    assert "Your portfolio is empty so far" in html
    assert "No hours recorded yet" in html
    assert "you have not reached a step yet" in html
    assert "Courses to start with, at step 0" in html
    assert "Five Minute Intervention" in html
    assert "KUF Awareness" not in html
    assert_csp_clean(html)


def test_dashboard_charts_are_inline_svg_with_text_alternatives(
    client, login, make_user, make_course, make_cohort, make_entry
):
    user = make_user()
    course = make_course("MBT Basic", step=1)
    complete(
        user,
        course,
        make_cohort,
        make_entry,
        completed=date(2025, 3, 1),
        hours=21,
        participatory_hours=21,
        principles=["belonging-connection"],
    )
    make_entry(user, completed=date(2026, 1, 10), hours=2.5, principles=["safety-confidence"])
    make_entry(user, completed=date(2026, 1, 11), hours=40, withdrawn_at=WITHDRAWN)
    login(client, user)
    html = page(client.get("/portfolio/dashboard"))
    assert html.count('role="img"') == 3
    for chart in ("hours-chart", "principles-chart", "escalator-chart"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
        assert f'<title id="{chart}-title">' in html
    # the hours table: 2025 all participatory; 2026 2.5 other (the withdrawn 40 never counts)
    cells = '<tr><th scope="row">{}</th>' + '<td class="num">{}</td>' * 3 + "</tr>"
    assert cells.format(2025, 21, 0, 21) in html
    assert cells.format(2026, 0, 2.5, 2.5) in html
    assert "23.5 hours of CPD in all" in html
    assert "cover 2 of the 10" in html
    assert "step 1, Awareness" in html
    assert_csp_clean(html)


def test_the_hours_chart_draws_the_last_ten_years_and_the_table_all(
    client, login, make_user, make_entry
):
    user = make_user()
    for year in range(2014, 2026):
        make_entry(user, completed=date(year, 6, 1), hours=1)
    login(client, user)
    html = page(client.get("/portfolio/dashboard"))
    chart = html.split('id="hours-chart"')[1].split("</svg>")[0]
    assert ">2016</text>" in chart and ">2025</text>" in chart and ">2015</text>" not in chart
    assert '<th scope="row">2014</th>' in html
    assert "The chart shows the last 10 years; the table has every year." in html


def test_recommendations_are_one_step_up_in_sector_with_prerequisites_met(
    client, login, make_user, make_course, make_cohort, make_entry, taxonomy
):
    user = make_user()
    user.sector = taxonomy["sectors"]["criminal-justice"]
    db.session.commit()
    done = make_course("KUF Awareness", step=1, sectors=("criminal-justice",))
    complete(user, done, make_cohort, make_entry, hours=7)
    other_done = make_course("Awareness withdrawn", step=3)
    complete(user, other_done, make_cohort, make_entry, hours=7, withdrawn_at=WITHDRAWN)

    soon = make_course("Starts soon", step=2, sectors=("criminal-justice",))
    make_cohort(soon, days=5)
    later = make_course("Starts later", step=2)  # no sectors: open to all
    make_cohort(later, days=40)
    make_course("A no dates", step=2, prerequisites=[done])
    enrolled = make_course("Already enrolled", step=2)
    db.session.add(
        Enrolment(user_id=user.id, cohort_id=make_cohort(enrolled).id, status="waitlisted")
    )
    needs = make_course("Needs something else", step=2, prerequisites=[make_course(step=1)])
    make_course("Wrong sector", step=2, sectors=("education",))
    make_course("Draft", step=2, status="draft")
    make_course("Too high", step=4)
    past = make_course("Past cohort only", step=2)
    make_cohort(past, days=-5)
    db.session.commit()

    login(client, user)
    html = page(client.get("/portfolio/dashboard"))
    section = html.split('id="next-heading"')[1]
    titles = re.findall(r'<h3 class="card-title"><a href="[^"]+">([^<]+)</a>', section)
    # with upcoming cohorts first (soonest first), then the others by title; the withdrawn step-3
    # completion does not lift the learner to step 4
    assert titles == ["Starts soon", "Starts later", "A no dates", "Past cohort only"]
    assert "step 2 (Practitioner)" in section
    assert "No upcoming cohort dates yet" in section
    assert needs.title not in section and enrolled.title not in section


def test_recommendations_stop_at_six_and_at_the_top_step(
    client, login, make_user, make_course, make_cohort, make_entry
):
    user = make_user()
    complete(user, make_course(step=0), make_cohort, make_entry)
    for n in range(8):
        make_course(f"Step one course {n}", step=1)
    login(client, user)
    html = page(client.get("/portfolio/dashboard"))
    assert html.count('class="card-title"') == 6
    complete(user, make_course("Leadership", step=4), make_cohort, make_entry)
    html = page(client.get("/portfolio/dashboard"))
    assert "You have reached the top of the escalator" in html
    assert 'class="card-title"' not in html


def test_dashboard_runs_a_fixed_number_of_queries(
    app, client, login, make_user, make_course, make_cohort, make_entry, count_queries
):
    user = make_user()
    complete(user, make_course(step=0), make_cohort, make_entry, hours=1)
    make_course(step=1)
    login(client, user)
    client.get("/portfolio/dashboard")
    with count_queries() as few:
        page(client.get("/portfolio/dashboard"))
    for n in range(15):
        make_entry(user, completed=date(2020 + n % 6, 1 + n % 12, 1), hours=n, principles=["x"])
    for _ in range(8):
        make_cohort(make_course(step=1), days=10)
    with count_queries() as many:
        html = page(client.get("/portfolio/dashboard"))
    assert html.count('class="card-title"') == 6
    assert many.count == few.count


def test_learners_see_only_their_own_portfolio(client, login, make_user, make_entry):
    a, b = make_user(), make_user()
    make_entry(a, "A's private supervision note", hours=3)
    login(client, b)
    for path in (
        "/portfolio/dashboard",
        "/portfolio/regulator/nmc",
        "/portfolio/regulator/hcpc",
        "/portfolio/regulator/swe",
        "/portfolio/regulator/rcpsych",
    ):
        html = page(client.get(path))
        assert "A&#39;s private supervision note" not in html
        assert "A's private supervision note" not in html
    login(client, a)
    assert "A&#39;s private supervision note" in page(client.get("/portfolio/regulator/hcpc"))


# --- the regulator views ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regulator", "heading"),
    [
        ("nmc", "NMC revalidation"),
        ("hcpc", "HCPC CPD record"),
        ("swe", "Social Work England CPD"),
        ("gmc", "RCPsych CPD"),
    ],
)
def test_the_profile_regulator_chooses_the_default_view(
    client, login, make_user, regulator, heading
):
    user = make_user()
    user.regulator = regulator
    db.session.commit()
    login(client, user)
    html = page(client.get("/portfolio/regulator"))
    assert f"<h1>{heading}</h1>" in html
    assert "Your portfolio has no entries yet" in html
    assert_csp_clean(html)


def test_without_a_regulator_a_chooser_and_unknown_views_are_not_found(client, login, make_user):
    login(client, make_user())
    html = page(client.get("/portfolio/regulator"))
    assert "Choose one" in html
    assert 'href="/portfolio/regulator/swe"' in html
    assert client.get("/portfolio/regulator/gmc").status_code == 404
    assert client.get("/portfolio/regulator/NMC%00").status_code == 404


def test_nmc_view_lays_out_the_log_and_accounts_and_asks_for_the_date(
    client, login, make_user, make_entry
):
    user = make_user()
    make_entry(
        user,
        "Safeguarding update",
        completed=date(2025, 5, 2),
        hours=6,
        participatory_hours=6,
        method="course",
        relevance="Ward safeguarding",
        themes=["nmc-preserve-safety"],
        is_reflective_account=True,
        reflection_confirmed_at=datetime(2025, 5, 3, tzinfo=UTC),
        learnt="Spotting coercion early",
        change_to_practice="I ask a second question",
    )
    make_entry(user, "Reading", completed=date(2025, 6, 1), hours=2)
    make_entry(
        user, "Withdrawn course", completed=date(2025, 6, 2), hours=30, withdrawn_at=WITHDRAWN
    )
    login(client, user)
    html = page(client.get("/portfolio/regulator/nmc"))
    assert "When is your revalidation due?" in html
    assert 'href="/account#revalidation_on"' in html

    user = db.session.get(User, user.id)
    user.revalidation_on = date(2028, 5, 1)
    db.session.commit()
    html = page(client.get("/portfolio/regulator/nmc"))
    assert "When is your revalidation due?" not in html
    assert "2 May 2025 to 1 May 2028" in html
    assert "8 of 35" in html and "6 of 20" in html and "1 of 5" in html
    assert "27 more hours of CPD" in html
    assert (
        "Reading (1 June 2025): method, topic and relevance to practice, part of the Code" in html
    )
    assert "Withdrawn course" not in html
    assert '<th scope="col">Participatory hours</th>' in html
    assert "How did you change or improve your practice as a result?" in html
    assert "I ask a second question" in html
    assert "Preserve safety" in html


def test_hcpc_view_flags_gaps_and_prints_a_profile(client, login, make_user, make_entry):
    user = make_user()
    make_entry(user, "January", completed=date(2025, 1, 15), hours=1, learnt="Jan text")
    make_entry(user, "April", completed=date(2025, 4, 15), hours=1, impact="Fewer crises")
    login(client, user)
    html = page(client.get("/portfolio/regulator/hcpc"))
    assert "16 January 2025 to 14 April 2025" in html
    assert html.count("needs an explanation") >= 2  # the gap between, and the one to today
    assert "up to 500 words" in html and "up to 1,500 words" in html
    assert "Fewer crises" in html and "Jan text" in html
    assert re.search(r"record\s+2 more to have enough", html)


def test_swe_and_rcpsych_views_count_per_year(client, login, make_user, make_entry):
    user = make_user()
    make_entry(
        user,
        "Peer chat",
        completed=date(2024, 12, 1),
        hours=50,
        clinical=True,
        peer_role="Supervisor",
    )
    make_entry(user, "Team day", completed=date(2024, 11, 30), hours=2, clinical=False)
    login(client, user)
    swe = page(client.get("/portfolio/regulator/swe"))
    assert "1 December 2024 to 30 November 2025" in swe
    assert "1 December 2023 to 30 November 2024" in swe
    assert "Yes, with a supervisor" in swe
    rcpsych = page(client.get("/portfolio/regulator/rcpsych"))
    assert "calendar years" in rcpsych
    assert '<th scope="row">2024</th>' in rcpsych
    assert "<td>52</td>" in rcpsych and "Nothing: met" in rcpsych


# --- the profile's revalidation date ------------------------------------------------------------


def test_profile_saves_the_revalidation_date_and_refuses_odd_ones(
    client, login, csrf, make_user, taxonomy
):
    user = make_user()
    login(client, user)
    form = {"name": "Sam", "regulator": "nmc", "csrf_token": csrf(client)}
    assert (
        client.post("/account", data={**form, "revalidation_on": "2027-03-31"}).status_code == 302
    )
    db.session.expire_all()
    assert db.session.get(User, user.id).revalidation_on == date(2027, 3, 31)
    html = page(client.get("/account"))
    assert 'value="2027-03-31"' in html

    for typed, message in (
        ("2099-01-01", "Enter a date between 1 April 2016 and"),
        ("1999-01-01", "Enter a date between 1 April 2016 and"),
        ("31/03/2027", "Enter the date as day, month and year"),
        ("not a date\x00", "Enter the date as day, month and year"),
    ):
        response = client.post("/account", data={**form, "revalidation_on": typed})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html
        assert 'href="#revalidation_on"' in html  # the error summary links to the field
    db.session.expire_all()
    assert db.session.get(User, user.id).revalidation_on == date(2027, 3, 31)

    assert client.post("/account", data={**form, "revalidation_on": ""}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).revalidation_on is None


def test_a_refused_date_keeps_what_was_typed(client, login, csrf, make_user):
    login(client, make_user())
    response = client.post(
        "/account",
        data={"name": "Sam", "revalidation_on": "2099-01-01", "csrf_token": csrf(client)},
    )
    assert response.status_code == 422
    assert 'value="2099-01-01"' in response.get_data(as_text=True)
