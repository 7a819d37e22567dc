"""Portfolio entries: the list, adding, editing, annotating verified entries, deleting,
reflections and their confirmation, odd input, and who may reach what."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from academy.db_types import utcnow
from academy.extensions import db
from academy.portfolio.models import EvidenceFile, LearningRecordEntry
from tests.test_access_matrix import tiny_png

NO_ONE = "This reflection contains no information that could identify a person"


def entry_count() -> int:
    return db.session.scalar(select(func.count(LearningRecordEntry.id)))


def reload(entry_id: int) -> LearningRecordEntry | None:
    db.session.expire_all()
    return db.session.get(LearningRecordEntry, entry_id)


def form_data(csrf_token: str, **fields) -> dict:
    """A complete, valid self-recorded entry form, with ``fields`` changed."""
    data = {
        "csrf_token": csrf_token,
        "title": "Trauma-informed supervision",
        "provider_name": "Leeds Relational Hub",
        "method": "supervision",
        "started_on": "2026-03-02",
        "completed_on": "2026-03-03",
        "hours": "6.25",
        "participatory_hours": "4.5",
        "clinical": "no",
        "relevance": "How I hold boundaries in long support relationships.",
        "learnt": "Naming the limits of my role early builds trust.",
        "change_to_practice": "I now agree expectations in the first meeting.",
        "impact": "People I support say they know what to expect.",
        "peer_name": "",
        "peer_role": "Team leader",
        "peer_reflection": "We discussed how to keep warmth while saying no.",
        "themes": ["nmc-prioritise-people", "swe-4.6"],
        "principles": ["boundaries-limits"],
        "is_reflective_account": "y",
        "reflection_confirmed": "y",
        "learner_note": "Follow up with the reading list.",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def learner(client, taxonomy, make_user, login):
    user = make_user()
    login(client, user)
    return user


# --- the list ---------------------------------------------------------------------------------


def test_an_empty_portfolio_explains_itself_and_links_to_add_an_entry(client, learner):
    page = client.get("/portfolio").get_data(as_text=True)
    assert "Your portfolio is empty" in page
    assert "a record of your learning that belongs to you" in page
    assert 'href="/portfolio/entries/new"' in page and "Add an entry" in page
    assert 'aria-label="Portfolio sections"' in page  # the section tabs


def test_the_list_shows_each_entry_s_facts_badges_and_markers(client, learner, make_entry):
    make_entry(
        learner,
        "Relational practice foundations",
        completed=date(2026, 5, 2),
        verified=True,
        provider_name="Provider X",
        method="course",
        hours=12,
        participatory_hours=12,
    )
    make_entry(
        learner,
        "Cancelled completion",
        completed=date(2026, 4, 2),
        verified=True,
        provider_name="Provider Y",
        withdrawn_at=utcnow(),
        corrected_at=utcnow(),
        correction_note="Marked complete on the wrong learner.",
    )
    own = make_entry(
        learner,
        "Reading on boundaries",
        completed=date(2026, 3, 2),
        method="reading",
        hours=1.5,
        learnt="Something",
        reflection_confirmed_at=utcnow(),
    )
    db.session.add(
        EvidenceFile(
            entry_id=own.id,
            user_id=learner.id,
            stored_name="a" * 32,
            filename="notes.pdf",
            content_type="application/pdf",
            size=10,
            sha256="0" * 64,
        )
    )
    db.session.commit()
    page = client.get("/portfolio").get_data(as_text=True)
    assert page.index("Relational practice foundations") < page.index("Cancelled completion")
    assert page.index("Cancelled completion") < page.index("Reading on boundaries")
    assert "Provider X" in page and "Course or workshop" in page and "12 hours (12 hours)" in page
    assert page.count('"badge entry-verified">Verified<') == 2
    assert page.count('"badge entry-self">Self-recorded<') == 1
    assert "<del>" in page and "does not count" in page
    assert "Marked complete on the wrong learner." in page
    assert "1 file" in page and "Reflection" in page and "1.5 hours" in page


def test_the_list_filters_by_year_and_kind(client, learner, make_entry):
    make_entry(learner, "Verified in 2025", completed=date(2025, 6, 1), verified=True)
    make_entry(learner, "Own in 2025", completed=date(2025, 12, 31))
    make_entry(learner, "Own in 2026", completed=date(2026, 1, 1))
    page = client.get("/portfolio?year=2025").get_data(as_text=True)
    assert "Verified in 2025" in page and "Own in 2025" in page and "Own in 2026" not in page
    page = client.get("/portfolio?kind=self").get_data(as_text=True)
    assert "Own in 2025" in page and "Own in 2026" in page and "Verified in 2025" not in page
    page = client.get("/portfolio?kind=verified&year=2026").get_data(as_text=True)
    assert "No entries match these filters" in page
    assert '<option value="2026"' in page and '<option value="2025"' in page


@pytest.mark.parametrize(
    "query",
    ["year=abc", "year=99999", "year=0001", "kind=everything", "page=-1", "page=1e9", "year=%00"],
)
def test_odd_filters_are_dropped_with_a_notice(client, learner, make_entry, query):
    make_entry(learner, "Still shown")
    response = client.get(f"/portfolio?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Still shown" in page and "flash-info" in page


def test_a_page_past_the_end_is_not_found(client, learner, make_entry):
    make_entry(learner)
    assert client.get("/portfolio?page=2").status_code == 404


def test_the_list_pages_twenty_at_a_time_keeping_filters(client, learner, make_entry):
    for day in range(1, 26):
        make_entry(learner, f"Entry day {day:02d}", completed=date(2026, 1, day))
    first = client.get("/portfolio?kind=self").get_data(as_text=True)
    assert "Entry day 25" in first and "Entry day 06" in first and "Entry day 05" not in first
    assert 'href="/portfolio?kind=self&amp;page=2"' in first
    second = client.get("/portfolio?kind=self&page=2").get_data(as_text=True)
    assert "Entry day 05" in second and "Entry day 06" not in second


def test_the_list_runs_the_same_number_of_queries_for_1_and_30_entries(
    client, learner, make_entry, count_queries
):
    counts = []
    for total in (1, 30):
        while db.session.scalar(select(func.count(LearningRecordEntry.id))) < total:
            entry = make_entry(
                learner, verified=bool(total % 2), learnt="x", reflection_confirmed_at=utcnow()
            )
            db.session.add(
                EvidenceFile(
                    entry_id=entry.id,
                    user_id=learner.id,
                    stored_name=f"{entry.id:032x}",
                    filename="n.png",
                    content_type="image/png",
                    size=1,
                    sha256="0" * 64,
                )
            )
            db.session.commit()
        with count_queries() as counter:
            response = client.get("/portfolio")
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]


def test_my_learning_links_to_the_portfolio(client, learner):
    page = client.get("/my-learning").get_data(as_text=True)
    assert 'href="/portfolio"' in page


# --- adding and editing -----------------------------------------------------------------------


def test_a_learner_adds_a_self_recorded_entry(client, learner, csrf):
    form = client.get("/portfolio/entries/new").get_data(as_text=True)
    assert '<h2 id="section-reflection">2. Reflection</h2>' in form and NO_ONE in form
    assert "names, dates of birth" in form  # the reminder above the prompts
    assert "Belonging and connection" in form  # charter principles from the taxonomy
    response = client.post("/portfolio/entries/new", data=form_data(csrf(client)))
    assert response.status_code == 303
    entry = db.session.scalars(select(LearningRecordEntry)).one()
    assert response.headers["Location"].endswith(f"/portfolio/entries/{entry.id}")
    assert entry.user_id == learner.id and not entry.verified
    assert entry.title == "Trauma-informed supervision"
    assert entry.provider_name == "Leeds Relational Hub" and entry.method == "supervision"
    assert entry.started_on == date(2026, 3, 2)
    assert entry.completed_at == datetime(2026, 3, 3, tzinfo=UTC)
    assert entry.hours == 6.25 and entry.participatory_hours == 4.5
    assert entry.clinical is False
    assert entry.themes == ["nmc-prioritise-people", "swe-4.6"]
    assert entry.principles == ["boundaries-limits"]
    assert entry.peer_role == "Team leader" and entry.peer_name == ""
    assert entry.is_reflective_account and entry.reflection_confirmed_at is not None
    assert entry.learner_note == "Follow up with the reading list."
    page = client.get(f"/portfolio/entries/{entry.id}").get_data(as_text=True)
    assert "Naming the limits of my role early builds trust." in page
    assert "Boundaries and limits" in page and "NMC Code: prioritise people" in page


def test_a_minimal_entry_needs_only_a_title_and_a_date(client, learner, csrf):
    response = client.post(
        "/portfolio/entries/new",
        data={"csrf_token": csrf(client), "title": "Team huddle", "completed_on": "2026-01-05"},
    )
    assert response.status_code == 303
    entry = db.session.scalars(select(LearningRecordEntry)).one()
    assert entry.hours is None and entry.clinical is None and entry.method == ""
    assert entry.reflection_confirmed_at is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"title": ""}, "Enter a title."),
        ({"completed_on": ""}, "Enter the date"),
        ({"completed_on": "2026-02-30"}, "Enter a real date"),
        ({"completed_on": "next tuesday"}, "Enter a real date"),
        ({"completed_on": "0001-01-01", "started_on": ""}, "from 1950 onwards"),
        ({"completed_on": "99999-01-01"}, "Enter a real date"),
        ({"started_on": "2026-03-04"}, "cannot be before the start date"),
        ({"hours": "lots"}, "Enter the hours as a number"),
        ({"hours": "NaN"}, "Enter the hours as a number"),
        ({"hours": "Infinity"}, "Enter the hours as a number"),
        ({"hours": "sNaN"}, "Enter the hours as a number"),
        ({"hours": "1e999999"}, "Enter 0 to 1,000 hours."),
        ({"hours": "-1"}, "Enter 0 to 1,000 hours."),
        ({"hours": "1000.25"}, "Enter 0 to 1,000 hours."),
        ({"hours": "9" * 400}, "Enter the hours as a number"),
        ({"participatory_hours": "7"}, "cannot be more than the hours"),
        ({"hours": "", "participatory_hours": "2"}, "Enter the hours as well"),
        ({"title": "x" * 301}, "at most 300 characters"),
        ({"learnt": "y" * 100_001}, "at most 10,000 characters"),
        ({"themes": ["nmc-prioritise-people", "not-a-theme"]}, "Choose only from the options"),
        ({"principles": ["no-such-principle"]}, "Choose only from the options"),
        ({"method": "telepathy"}, "Choose how you learnt"),
        ({"clinical": "maybe"}, "Choose clinical, non-clinical or not said"),
    ],
)
def test_bad_input_is_refused_with_a_message_keeping_what_was_typed(
    client, learner, csrf, fields, message
):
    data = form_data(csrf(client), **fields)
    response = client.post("/portfolio/entries/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "There is a problem" in page
    assert "We discussed how to keep warmth while saying no." in page  # typed text is kept
    assert "Leeds Relational Hub" in page
    assert entry_count() == 0


def test_a_future_date_is_refused(client, learner, csrf):
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    response = client.post(
        "/portfolio/entries/new",
        data=form_data(csrf(client), completed_on=tomorrow, started_on=""),
    )
    assert response.status_code == 422
    assert "cannot be in the future" in response.get_data(as_text=True)
    assert entry_count() == 0


def test_a_very_long_text_gets_a_clear_message(client, learner, csrf):
    data = form_data(csrf(client), learnt="z" * (600 * 1024))
    response = client.post("/portfolio/entries/new", data=data)
    assert response.status_code == 422
    assert "at most 10,000 characters" in response.get_data(as_text=True)
    # sent as multipart, a field over Werkzeug's form memory limit stops before the view (the
    # body is built by hand: the test client would spool it to a file it never closes)
    boundary = "entryboundary"
    body = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in data.items()
            if isinstance(value, str)
        )
        + f"--{boundary}--\r\n"
    )
    response = client.post(
        "/portfolio/entries/new",
        data=body.encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert "too large to save" in response.get_data(as_text=True)
    assert entry_count() == 0


def test_control_characters_are_cleaned_not_stored(client, learner, csrf):
    response = client.post(
        "/portfolio/entries/new",
        data=form_data(csrf(client), title="Team\x00 day\x07", learnt="line one\r\nline\x00 two"),
    )
    assert response.status_code == 303
    entry = db.session.scalars(select(LearningRecordEntry)).one()
    assert entry.title == "Team day" and entry.learnt == "line one\nline two"


def test_a_post_without_the_csrf_token_is_refused(app, client, learner):
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/portfolio/entries/new", data=form_data(""))
    assert response.status_code == 400
    assert entry_count() == 0


# --- reflections ------------------------------------------------------------------------------


def test_a_reflection_needs_the_confirmation(client, learner, csrf):
    response = client.post(
        "/portfolio/entries/new", data=form_data(csrf(client), reflection_confirmed=None)
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        "Confirm that the reflection contains no information that could identify a person" in page
    )
    assert "Naming the limits of my role early builds trust." in page
    assert entry_count() == 0


def test_a_written_reflective_account_alone_needs_the_confirmation(client, learner, csrf):
    bare = {name: "" for name in ("relevance", "learnt", "change_to_practice", "impact")}
    data = form_data(csrf(client), peer_reflection="", reflection_confirmed=None, **bare)
    response = client.post("/portfolio/entries/new", data=data)
    assert response.status_code == 422
    del data["is_reflective_account"]
    assert client.post("/portfolio/entries/new", data=data).status_code == 303
    assert db.session.scalars(select(LearningRecordEntry)).one().reflection_confirmed_at is None


def test_the_confirmation_is_kept_while_the_text_is_unchanged_and_asked_again_when_it_changes(
    client, learner, csrf, make_entry
):
    confirmed = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)
    entry = make_entry(
        learner,
        "Supervision",
        completed=date(2026, 1, 2),
        learnt="Old reflection",
        reflection_confirmed_at=confirmed,
    )
    edit = f"/portfolio/entries/{entry.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert "You confirmed this on" in page
    assert (
        'id="reflection_confirmed" name="reflection_confirmed" type="checkbox" value="y">' in page
    )

    same_text = {
        "csrf_token": csrf(client),
        "title": "Supervision, renamed",
        "completed_on": "2026-01-02",
        "learnt": "Old reflection",
    }
    assert client.post(edit, data=same_text).status_code == 303
    entry = reload(entry.id)
    assert entry.title == "Supervision, renamed" and entry.reflection_confirmed_at == confirmed

    changed = {**same_text, "learnt": "A new reflection"}
    response = client.post(edit, data=changed)
    assert response.status_code == 422
    assert "Confirm that the reflection" in response.get_data(as_text=True)
    entry = reload(entry.id)
    assert entry.learnt == "Old reflection" and entry.reflection_confirmed_at == confirmed

    assert client.post(edit, data={**changed, "reflection_confirmed": "y"}).status_code == 303
    entry = reload(entry.id)
    assert entry.learnt == "A new reflection" and entry.reflection_confirmed_at > confirmed


def test_removing_every_reflection_clears_the_confirmation(client, learner, csrf, make_entry):
    entry = make_entry(learner, learnt="Something", reflection_confirmed_at=utcnow())
    response = client.post(
        f"/portfolio/entries/{entry.id}/edit",
        data={"csrf_token": csrf(client), "title": entry.title, "completed_on": "2026-06-01"},
    )
    assert response.status_code == 303
    entry = reload(entry.id)
    assert entry.learnt == "" and entry.reflection_confirmed_at is None


# --- editing and deleting ---------------------------------------------------------------------


def test_a_self_recorded_entry_can_be_changed_in_every_field(client, learner, csrf, make_entry):
    entry = make_entry(learner, "Draft title", hours=1, method="reading")
    edit = f"/portfolio/entries/{entry.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert 'value="Draft title"' in page and 'value="01/06/2026"' in page
    assert client.post(edit, data=form_data(csrf(client))).status_code == 303
    entry = reload(entry.id)
    assert entry.title == "Trauma-informed supervision" and entry.hours == 6.25
    assert entry.method == "supervision" and entry.completed_at == datetime(2026, 3, 3, tzinfo=UTC)
    assert entry.updated_at is not None


def test_a_failed_edit_keeps_what_was_typed_and_changes_nothing(client, learner, csrf, make_entry):
    entry = make_entry(learner, "Keep me", hours=2)
    response = client.post(
        f"/portfolio/entries/{entry.id}/edit",
        data=form_data(csrf(client), title="Typed title", hours="abc"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="Typed title"' in page and 'value="abc"' in page
    entry = reload(entry.id)
    assert entry.title == "Keep me" and entry.hours == 2


def verified_entry(make_entry, user, **fields):
    return make_entry(
        user,
        "Relational practice foundations",
        completed=date(2026, 5, 2),
        verified=True,
        provider_name="Provider X",
        confirmed_by_name="Sam Staff",
        hours=12,
        participatory_hours=10,
        method="course",
        **fields,
    )


def test_a_verified_entry_can_be_annotated_but_not_altered(client, learner, csrf, make_entry):
    entry = verified_entry(make_entry, learner)
    edit = f"/portfolio/entries/{entry.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert "This entry is verified" in page and 'name="title"' not in page
    assert 'name="hours"' not in page and "12 hours" in page
    response = client.post(
        edit,
        data=form_data(
            csrf(client),
            title="I completed something grander",
            provider_name="Someone else",
            completed_on="2026-01-01",
            started_on="2025-12-01",
            hours="900",
            participatory_hours="900",
            method="reading",
            verified="",
        ),
    )
    assert response.status_code == 303
    entry = reload(entry.id)
    assert entry.title == "Relational practice foundations"
    assert entry.provider_name == "Provider X" and entry.method == "course"
    assert entry.completed_at == datetime(2026, 5, 2, tzinfo=UTC) and entry.started_on is None
    assert entry.hours == 12 and entry.participatory_hours == 10 and entry.verified
    assert entry.learner_note == "Follow up with the reading list."
    assert entry.learnt == "Naming the limits of my role early builds trust."
    assert entry.themes == ["nmc-prioritise-people", "swe-4.6"]
    assert entry.principles == ["boundaries-limits"]
    assert entry.clinical is False and entry.is_reflective_account
    assert entry.reflection_confirmed_at is not None


def test_a_verified_entry_cannot_be_deleted(client, learner, csrf, make_entry):
    entry = verified_entry(make_entry, learner)
    response = client.get(f"/portfolio/entries/{entry.id}/delete")
    assert response.status_code == 409
    assert "cannot be deleted" in response.get_data(as_text=True)
    response = client.post(
        f"/portfolio/entries/{entry.id}/delete", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 409
    assert reload(entry.id) is not None
    assert "Delete this entry" not in client.get(f"/portfolio/entries/{entry.id}").get_data(
        as_text=True
    )


def test_a_verified_entry_shows_its_correction_history(client, learner, make_entry):
    entry = verified_entry(
        make_entry,
        learner,
        corrected_at=datetime(2026, 5, 9, 10, tzinfo=UTC),
        corrected_by_name="Pat Admin",
        correction_note="Recorded against the wrong cohort.",
        withdrawn_at=datetime(2026, 5, 9, 10, tzinfo=UTC),
    )
    page = client.get(f"/portfolio/entries/{entry.id}").get_data(as_text=True)
    assert "Record history" in page and "Sam Staff" in page
    assert "corrected by Pat Admin" in page and "Recorded against the wrong cohort." in page
    assert "does not count" in page and "<del>" in page


def test_deleting_an_entry_asks_first_then_removes_it_and_its_files(
    app, client, learner, csrf, make_entry
):
    entry = make_entry(learner, "Going away")
    client.post(
        f"/portfolio/entries/{entry.id}/evidence",
        data={"csrf_token": csrf(client), "file": (io.BytesIO(tiny_png()), "a.png")},
    )
    stored = db.session.scalars(select(EvidenceFile)).one()
    path = Path(app.config["EVIDENCE_DIR"]) / stored.stored_name
    assert path.exists()
    page = client.get(f"/portfolio/entries/{entry.id}/delete").get_data(as_text=True)
    assert "Delete “Going away”?" in page and "its 1 evidence file" in page
    response = client.post(
        f"/portfolio/entries/{entry.id}/delete", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/portfolio")
    assert reload(entry.id) is None
    assert db.session.scalar(select(func.count(EvidenceFile.id))) == 0
    assert not path.exists()


# --- who may reach what -----------------------------------------------------------------------


def test_learner_b_cannot_reach_a_s_entries_by_any_route(
    client, taxonomy, make_user, login, csrf, make_entry
):
    a, b = make_user(), make_user()
    entry = make_entry(
        a, "A's private entry", learnt="A's reflection", reflection_confirmed_at=utcnow()
    )
    login(client, b)
    token = csrf(client)
    assert "A&#39;s private entry" not in client.get("/portfolio").get_data(as_text=True)
    for method, path, data in (
        ("GET", f"/portfolio/entries/{entry.id}", None),
        ("GET", f"/portfolio/entries/{entry.id}/edit", None),
        ("POST", f"/portfolio/entries/{entry.id}/edit", form_data(token, title="B was here")),
        ("GET", f"/portfolio/entries/{entry.id}/delete", None),
        ("POST", f"/portfolio/entries/{entry.id}/delete", {"csrf_token": token}),
        ("POST", f"/portfolio/entries/{entry.id}/evidence", {"csrf_token": token}),
    ):
        response = client.open(path, method=method, data=data)
        assert response.status_code == 404, (method, path)
        assert "A&#39;s" not in response.get_data(as_text=True)
    entry = reload(entry.id)
    assert entry.title == "A's private entry" and entry.learnt == "A's reflection"


@pytest.mark.parametrize(
    "path",
    [
        "/portfolio/entries/999999",
        "/portfolio/entries/999999/edit",
        "/portfolio/entries/999999/delete",
        "/portfolio/evidence/999999",
        "/portfolio/evidence/999999/delete",
        "/portfolio/entries/99999999999999999999999",
    ],
)
def test_ids_that_do_not_exist_are_not_found(client, learner, path):
    assert client.get(path).status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/portfolio")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- the form in sections: only what applies, every error at once, a date hint that fits ------


def themes_offered(page: str) -> set[str]:
    return set(re.findall(r'name="themes" type="checkbox" value="([^"]+)"', page))


@pytest.mark.parametrize(
    ("regulator", "prefixes", "clinical", "reflective"),
    [
        ("nmc", {"nmc"}, False, True),
        ("swe", {"swe"}, False, False),
        ("hcpc", set(), False, False),
        ("gmc", set(), True, False),
        ("", {"nmc", "swe"}, True, True),
    ],
)
def test_the_form_asks_only_what_the_regulator_asks(
    client, learner, regulator, prefixes, clinical, reflective
):
    learner.regulator = regulator
    db.session.commit()
    page = client.get("/portfolio/entries/new").get_data(as_text=True)
    assert {key.split("-")[0] for key in themes_offered(page)} == prefixes
    assert ('name="clinical"' in page) is clinical
    assert ('name="is_reflective_account"' in page) is reflective


def test_questions_not_asked_keep_what_the_entry_had(client, csrf, learner, make_entry):
    entry = make_entry(
        learner, "Old", clinical=True, themes=["swe-4.1"], is_reflective_account=True
    )
    learner.regulator = "hcpc"
    db.session.commit()
    page = client.get(f"/portfolio/entries/{entry.id}/edit").get_data(as_text=True)
    assert themes_offered(page) == {"swe-4.1"}  # an earlier choice stays offered
    data = form_data(csrf(client), title="Renamed", themes=["swe-4.1"])
    del data["clinical"], data["is_reflective_account"]
    assert client.post(f"/portfolio/entries/{entry.id}/edit", data=data).status_code == 303
    entry = reload(entry.id)
    assert entry.title == "Renamed" and entry.clinical is True and entry.is_reflective_account
    assert entry.themes == ["swe-4.1"]


def test_every_error_arrives_at_once(client, csrf, learner):
    response = client.post(
        "/portfolio/entries/new",
        data=form_data(
            csrf(client), title="", completed_on="31/2/2026", hours="lots",
            reflection_confirmed=None,
        ),
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    for message in ("Enter a title.", "Enter a real date, like 14/3/2026.",
                    "Enter the hours as a number", "Confirm that the reflection"):  # fmt: skip
        assert message in summary
    assert re.search(r"<title>Error: Add an entry", page)
    assert entry_count() == 0


def test_the_date_hint_matches_the_box(client, csrf, learner, make_entry):
    page = client.get("/portfolio/entries/new").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="completed_on"[^>]*>', page).group(0)
    assert 'type="text"' in box
    assert "for example 14/3/2026" in page
    response = client.post(
        "/portfolio/entries/new",
        data=form_data(csrf(client), started_on="", completed_on="14/3/2026"),
    )
    assert response.status_code == 303
    entry = db.session.scalars(select(LearningRecordEntry)).one()
    assert entry.completed_at == datetime(2026, 3, 14, tzinfo=UTC)
    edit = client.get(f"/portfolio/entries/{entry.id}/edit").get_data(as_text=True)
    assert 'value="14/03/2026"' in edit  # shown back the way the hint says to type it


def test_optional_parts_are_folded_unless_they_hold_something(client, csrf, learner):
    page = client.get("/portfolio/entries/new").get_data(as_text=True)
    assert '<details class="optional-section" id="peer-section">' in page
    response = client.post(
        "/portfolio/entries/new", data=form_data(csrf(client), title="", peer_role="Mentor")
    )
    assert '<details class="optional-section" id="peer-section" open>' in response.get_data(
        as_text=True
    )
