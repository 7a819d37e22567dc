"""Nothing typed is lost: a form sent after the session ended, or with a stale token, is kept
(server-side, never in a URL, only for the person who typed it) and given back on its page;
and every error page says what to do next."""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask import g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from academy.errors.kept_forms import RESTORED_MESSAGE, KeptForm
from academy.extensions import db
from academy.portfolio.models import LearningRecordEntry
from tests.conftest import TEST_PASSWORD

REFLECTION = "I learnt to slow down and ask what matters to the person. " * 40


def kept_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(KeptForm.id)))


def entry_form(token: str, **fields) -> dict:
    data = {
        "csrf_token": token,
        "title": "Listening well",
        "completed_on": "2026-03-03",
        "relevance": REFLECTION,
        "reflection_confirmed": "y",
    }
    data.update(fields)
    return data


def log_in_by_form(client, user, next_url: str | None = None):
    # the tests' app context outlives requests, and Flask-WTF caches the token in ``g``
    g.pop("csrf_token", None)
    page = client.get("/login" + (f"?next={next_url}" if next_url else ""))
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    return client.post(
        "/login" + (f"?next={next_url}" if next_url else ""),
        data={"csrf_token": token.group(1), "email": user.email, "password": TEST_PASSWORD},
    )


@pytest.fixture
def learner(client, taxonomy, make_user, login):
    user = make_user()
    login(client, user)
    return user


def test_typing_survives_the_session_ending_and_comes_back_after_logging_in(client, csrf, learner):
    token = csrf(client)
    assert client.get("/portfolio/entries/new").status_code == 200
    client.post("/logout", data={"csrf_token": token})  # another tab logs out

    response = client.post("/portfolio/entries/new", data=entry_form(token))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<title>Error: your session had ended" in page and "kept what you typed" in page
    onward = unescape(re.search(r'<a class="button" href="([^"]+)"', page).group(1))
    assert unquote(onward) == "/login?next=/portfolio/entries/new"
    assert "slow down" not in page  # the text is kept server-side, never in a URL or the page
    assert db.session.scalar(select(func.count(LearningRecordEntry.id))) == 0
    assert kept_count() == 1

    response = log_in_by_form(client, learner, "/portfolio/entries/new")
    assert response.status_code in (302, 303)
    assert response.headers["Location"].endswith("/portfolio/entries/new")
    g.pop("csrf_token", None)
    page = client.get("/portfolio/entries/new").get_data(as_text=True)
    assert RESTORED_MESSAGE in page
    assert "I learnt to slow down" in page and 'value="Listening well"' in page
    assert kept_count() == 0  # given back once, then gone

    fresh = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    saved = client.post("/portfolio/entries/new", data=entry_form(fresh))
    assert saved.status_code == 303
    entry = db.session.scalars(select(LearningRecordEntry)).one()
    assert entry.relevance == REFLECTION.strip()
    assert RESTORED_MESSAGE not in client.get("/portfolio/entries/new").get_data(as_text=True)


def test_someone_else_logging_in_on_the_same_browser_never_sees_it(
    client, csrf, learner, make_user
):
    token = csrf(client)
    client.get("/portfolio/entries/new")
    client.post("/logout", data={"csrf_token": token})
    client.post("/portfolio/entries/new", data=entry_form(token))
    assert kept_count() == 1

    other = make_user()
    log_in_by_form(client, other, "/portfolio/entries/new")
    page = client.get("/portfolio/entries/new").get_data(as_text=True)
    assert "slow down" not in page and RESTORED_MESSAGE not in page
    assert kept_count() == 1


def onward_link(response) -> str:
    page = response.get_data(as_text=True)
    return unescape(re.search(r'<a class="button" href="([^"]+)"', page).group(1))


def test_a_stale_token_while_logged_in_links_straight_back_to_the_form(client, learner):
    response = client.post("/portfolio/entries/new", data=entry_form("not-a-real-token"))
    assert response.status_code == 400
    assert "Error: that form had expired" in response.get_data(as_text=True)
    assert onward_link(response) == "/portfolio/entries/new"
    page = client.get("/portfolio/entries/new").get_data(as_text=True)
    assert RESTORED_MESSAGE in page and "I learnt to slow down" in page


def test_an_edit_form_comes_back_over_the_saved_values(client, csrf, learner, make_entry):
    entry = make_entry(learner, "Old title")
    url = f"/portfolio/entries/{entry.id}/edit"
    response = client.post(url, data=entry_form("stale", title="New title"))
    assert onward_link(response) == url
    page = client.get(url).get_data(as_text=True)
    assert 'value="New title"' in page and 'value="Old title"' not in page


def test_passwords_are_never_kept(client, make_user):
    user = make_user()
    client.post(
        "/login", data={"csrf_token": "stale", "email": user.email, "password": TEST_PASSWORD}
    )
    kept = db.session.scalars(select(KeptForm)).one()
    assert user.email in kept.fields and TEST_PASSWORD not in kept.fields
    page = client.get("/login").get_data(as_text=True)
    assert f'value="{user.email}"' in page


def test_a_kept_form_is_only_given_back_on_its_own_page(client, learner):
    client.post("/portfolio/entries/new", data=entry_form("stale"))
    page = client.get("/portfolio/share").get_data(as_text=True)
    assert RESTORED_MESSAGE not in page
    assert kept_count() == 1


def test_nothing_typed_means_nothing_kept(client, learner):
    response = client.post("/portfolio/entries/new", data={"csrf_token": "stale"})
    assert response.status_code == 400
    assert "Go back and try again" in response.get_data(as_text=True)
    assert kept_count() == 0


def test_a_form_sent_from_a_page_elsewhere_links_back_to_that_page(client, learner, make_entry):
    entry = make_entry(learner)
    response = client.post(
        f"/portfolio/entries/{entry.id}/evidence",
        data={"csrf_token": "stale", "note": "typed"},
        headers={"Referer": f"http://localhost/portfolio/entries/{entry.id}"},
    )
    assert onward_link(response) == f"/portfolio/entries/{entry.id}"


# --- addresses that only take a form ---------------------------------------------------------


def post_only_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and "GET" not in rule.methods
    ]


def example_path(rule) -> str:
    values = {arg: ("a-slug" if "slug" in arg else 1) for arg in rule.arguments}
    if "kind" in rule.arguments:
        values["kind"] = "sectors"  # taxonomy kinds are a fixed list (an ``any`` converter)
    return rule.rule and rule.build(values, append_unknown=False)[1]


def test_a_get_on_every_form_only_address_is_a_redirect_or_the_friendly_page(app, client, learner):
    for rule in post_only_rules(app):
        path = example_path(rule)
        response = client.get(path)
        assert response.status_code in (303, 405), path
        if response.status_code == 405:
            page = response.get_data(as_text=True)
            assert "<title>Error: this address only takes a form" in page, path


def test_a_reload_of_an_evidence_upload_goes_back_to_the_entry(client, learner, make_entry):
    entry = make_entry(learner)
    response = client.get(f"/portfolio/entries/{entry.id}/evidence")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/portfolio/entries/{entry.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "only takes a form" in page


def test_another_method_gets_the_friendly_405_page(client, learner):
    response = client.put("/portfolio/entries/new")
    assert response.status_code == 405
    assert "Error: this address only takes a form" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (400, "We could not read that request"),
        (403, "You do not have access to this page"),
        (404, "Page not found"),
        (405, "This address only takes a form"),
        (410, "This is no longer available"),
        (413, "Too much to send"),
        (429, "Too many requests"),
    ],
)
def test_every_error_page_says_what_to_do_next(app, code, words):
    from flask import abort

    @app.get(f"/_probe/{code}")
    def probe():
        abort(code)

    client = app.test_client()
    # a 405 comes before any view: another method on a GET-only address
    response = client.put(f"/_probe/{code}") if code == 405 else client.get(f"/_probe/{code}")
    page = response.get_data(as_text=True)
    assert response.status_code == code
    assert re.search(r"<title>Error: ", page)
    assert words in page
    assert 'href="/"' in page  # always a way onward
    assert '<main id="main"' in page


# --- every form, with stale and missing tokens ----------------------------------------------


def form_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith(("/api/", "/static"))
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=300
    ).filter(lambda s: s.strip()),
    token=st.sampled_from([None, "", "stale", "x" * 200]),
    index=st.integers(min_value=0, max_value=10_000),
)
def test_stale_and_missing_tokens_never_fail_and_keep_what_was_typed(
    app, client, learner, text, token, index
):
    rules = form_rules(app)
    rule = rules[index % len(rules)]
    path = example_path(rule)
    data = {"title": text, "note": text}
    if token is not None:
        data["csrf_token"] = token
    response = client.post(path, data=data)
    assert response.status_code == 400, path
    assert "<title>Error: " in response.get_data(as_text=True)
    db.session.expire_all()
    kept = db.session.scalars(select(KeptForm).order_by(KeptForm.id.desc())).first()
    assert kept is not None and json.loads(kept.fields)[0] == ["title", text]
    # what was typed never travels in a URL: the onward link's query carries none of it
    query = parse_qs(urlsplit(onward_link(response)).query)
    assert set(query) <= {"next"}
    typed = text.strip()
    assert all(typed not in value or typed in path for value in query.get("next", []))


def test_a_session_ended_on_the_server_keeps_the_form_too(client, csrf, learner):
    from academy.accounts.models import AuthSession

    token = csrf(client)
    client.get("/portfolio/entries/new")
    db.session.execute(AuthSession.__table__.delete())  # expired, or ended from elsewhere
    db.session.commit()
    response = client.post("/portfolio/entries/new", data=entry_form(token))
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == "/login?next=/portfolio/entries/new"
    assert kept_count() == 1
    log_in_by_form(client, learner, "/portfolio/entries/new")
    g.pop("csrf_token", None)
    page = client.get("/portfolio/entries/new").get_data(as_text=True)
    assert RESTORED_MESSAGE in page and "I learnt to slow down" in page


def test_a_page_for_logged_in_people_still_sends_others_to_log_in(client):
    response = client.get("/portfolio")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]
