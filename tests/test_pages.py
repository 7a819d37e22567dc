"""Course, programme, provider, escalator, home and error pages."""

from __future__ import annotations

from academy.extensions import db


def test_course_page_shows_every_field(client, make_course, make_cohort, taxonomy):
    course = make_course(
        "Working with Personality Disorder",
        slug="wwpd",
        reference="KUF-3DAY",
        summary="Three days of awareness.",
        description="First paragraph.\n\nSecond paragraph.",
        who_its_for="All frontline staff.",
        entry_requirements="None.",
        where_next="A BSc-level module.",
        step=1,
        sectors=("criminal-justice",),
        professions=("prison-officer",),
        principles=("safety-confidence",),
        delivery_mode="blended",
        region="north-west",
        duration_hours=21,
        cpd_hours=18.5,
        credits=15,
        credit_level="RQF 6",
        cost_type="fee",
        fee_pence=125050,
        lived_experience_codelivery=True,
        external_url="https://example.org/wwpd",
    )
    make_cohort(course, days=14, session_days=(0, 7, 14), capacity=12, seats_taken=5)
    html = client.get("/courses/wwpd").get_data(as_text=True)
    for text in (
        "Working with Personality Disorder", "Three days of awareness.", "<p>First paragraph.</p>",
        "<p>Second paragraph.</p>", "All frontline staff.", "A BSc-level module.",
        "Step 1: Awareness", "Criminal justice (prison and probation)", "Prison officer",
        "Safety and confidence", "Blended", "North West", "21 hours", "18.5 hours",
        "15 at RQF 6", "£1,250.50", "Co-delivered with trainers with lived experience",
        "https://example.org/wwpd", "KUF-3DAY", "7 of 12 places left",
    ):  # fmt: skip
        assert text in html, text
    assert html.count("<tr><td>") == 3  # three sessions


def test_full_cohort_says_so_and_past_cohorts_are_not_listed(client, make_course, make_cohort):
    course = make_course("Popular", slug="popular")
    make_cohort(course, days=20, capacity=10, seats_taken=10)
    make_cohort(course, days=-30)
    html = client.get("/courses/popular").get_data(as_text=True)
    assert "This cohort is full." in html
    assert html.count('class="card cohort"') == 1


def test_prerequisites_and_next_steps_cross_providers(client, make_course, make_provider):
    awareness = make_course("KUF Awareness", slug="awareness", provider=make_provider("One"))
    bsc = make_course("BSc module", slug="bsc", step=2, provider=make_provider("Two"))
    msc = make_course("MSc module", slug="msc", step=3, provider=make_provider("Three"))
    hidden = make_course("Hidden next", slug="hidden", step=3, status="draft")
    bsc.prerequisites.append(awareness)
    msc.prerequisites.append(bsc)
    hidden.prerequisites.append(bsc)
    db.session.commit()
    html = client.get("/courses/bsc").get_data(as_text=True)
    before, after = html.split("<h2>Next steps</h2>")
    assert "KUF Awareness" in before and "One" in before
    assert "MSc module" in after and "Three" in after
    assert "Hidden next" not in html
    assert "No other course is needed first." in client.get("/courses/awareness").get_data(
        as_text=True
    )


def test_module_page_names_its_programme_and_position(client, make_course, make_programme):
    modules = [make_course(f"Module {n}", slug=f"module-{n}", step=2) for n in range(1, 10)]
    make_programme("KUF BSc-level programme", modules, slug="kuf-bsc")
    html = client.get("/courses/module-3").get_data(as_text=True)
    assert "Module 3 of 9 of" in html and 'href="/programmes/kuf-bsc"' in html
    programme_page = client.get("/programmes/kuf-bsc").get_data(as_text=True)
    positions = [programme_page.index(f">Module {n}<") for n in range(1, 10)]
    assert positions == sorted(positions)
    assert "Step 2: Practitioner" in programme_page
    assert "KUF BSc-level programme" in client.get("/programmes").get_data(as_text=True)


def test_unknown_pages_are_404_in_the_site_style(client):
    for url in ("/courses/nope", "/programmes/nope", "/providers/nope", "/no-such-page"):
        response = client.get(url)
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)
        assert "Relational Learning Academy" in response.get_data(as_text=True)


def test_unexpected_error_gives_the_500_page(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = client.get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "Sorry, something went wrong" in html and "kaboom" not in html


def test_escalator_shows_steps_for_one_sector_with_links(client, make_course):
    awareness = make_course("Prison awareness", step=1, sectors=("criminal-justice",))
    practitioner = make_course("Prison practitioner", step=2, sectors=("criminal-justice",))
    make_course("Open to all", step=0)
    make_course("School course", step=1, sectors=("education",))
    practitioner.prerequisites.append(awareness)
    db.session.commit()
    html = client.get("/escalator?sector=criminal-justice").get_data(as_text=True)
    assert "Prison awareness" in html and "Prison practitioner" in html
    assert "Open to all" in html and "School course" not in html
    assert f'Leads to:\n                  <a href="#course-{practitioner.id}"' in html
    leadership = html.index("Step 4</span> Leadership")
    introductory = html.index("Step 0</span> Introductory")
    assert leadership < introductory  # drawn as a ladder, top step first
    assert "No courses at this step for" in html
    every = client.get("/escalator").get_data(as_text=True)
    assert "School course" in every
    odd = client.get("/escalator?sector=%00%F0%9F%98%80")
    assert odd.status_code == 200 and "School course" in odd.get_data(as_text=True)


def test_home_page_has_search_and_the_escalator(client, make_course):
    make_course("Something", step=2)
    html = client.get("/").get_data(as_text=True)
    assert 'action="/courses"' in html and 'name="q"' in html
    assert "1 course" in html and "demonstration data" in html
