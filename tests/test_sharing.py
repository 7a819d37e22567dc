"""Share links: made from chosen entries, shown once, hashed at rest, public until they expire
or are revoked, and showing nothing but the chosen entries and their evidence."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from academy.db_types import utcnow
from academy.extensions import db
from academy.portfolio import sharing
from academy.portfolio.evidence_store import path_for
from academy.portfolio.models import LearningRecordEntry, ShareLink

UNAVAILABLE = "This link is no longer available"


@pytest.fixture
def evidence_dir(app, tmp_path):
    folder = tmp_path / "evidence"
    app.config["EVIDENCE_DIR"] = str(folder)
    return folder


@pytest.fixture
def add_evidence(evidence_dir, make_evidence):
    return make_evidence


@pytest.fixture
def portfolio(make_user, make_entry, add_evidence):
    """Learner Ada with a verified entry, a self-recorded one with a reflection, and one that
    she does not share; each has an evidence file."""
    ada = make_user(name="Ada Lovelace")
    verified = make_entry(
        ada,
        "Kind, Understanding, Fair: awareness",
        verified=True,
        provider_name="Provider X",
        method="course",
        hours=6,
    )
    reading = make_entry(
        ada,
        "Reading on trauma-informed care",
        method="reading",
        hours=2.5,
        learnt="A private reflection about a difficult shift",
    )
    private = make_entry(ada, "Private counselling notes", hours=1)
    return {
        "ada": ada,
        "verified": verified,
        "reading": reading,
        "private": private,
        "verified_file": add_evidence(verified, b"%PDF-1.4\nverified certificate\n"),
        "reading_file": add_evidence(reading, b"%PDF-1.4\nreading notes\n", "notes.pdf"),
        "private_file": add_evidence(private, b"%PDF-1.4\nprivate\n", "private.pdf"),
    }


def make_link(portfolio, *entries, days=30, label="For my appraisal"):
    link, token = sharing.create_link(
        portfolio["ada"],
        [entry.id for entry in entries],
        label=label,
        expires_on=sharing.today() + timedelta(days=days),
    )
    db.session.commit()
    return link, token


def test_making_a_link_shows_it_once_and_stores_only_its_hash(client, login, csrf, portfolio):
    login(client, portfolio["ada"])
    response = client.post(
        "/portfolio/share",
        data={
            "entries": [str(portfolio["verified"].id), str(portfolio["reading"].id)],
            "label": "For Dr Khan",
            "expires_on": (sharing.today() + timedelta(days=10)).isoformat(),
            "csrf_token": csrf(client),
        },
    )
    assert response.status_code == 303
    page = client.get("/portfolio/share")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"
    url = re.search(r'value="(http://[^"]+/shared/([A-Za-z0-9_-]+))"', html)
    assert url is not None and "readonly" in html
    token = url.group(2)
    assert len(token) == 43  # secrets.token_urlsafe(32)
    link = db.session.scalar(select(ShareLink))
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in link.token_hash and link.label == "For Dr Khan"
    assert {e.id for e in link.entries} == {portfolio["verified"].id, portfolio["reading"].id}
    chosen = sharing.today() + timedelta(days=10)
    assert link.expires_at == sharing.end_of_day(chosen)
    # the list shows it; the full link is never shown again
    again = client.get("/portfolio/share").get_data(as_text=True)
    assert token not in again
    assert "For Dr Khan" in again and "Live" in again
    assert f"{chosen.day} {chosen:%B %Y}" in again  # the day chosen, not the day after


def test_the_link_shows_only_the_chosen_entries_and_whether_each_is_verified(client, portfolio):
    _, token = make_link(portfolio, portfolio["verified"], portfolio["reading"])
    response = client.get(f"/shared/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "Ada Lovelace" in html
    assert "Kind, Understanding, Fair: awareness" in html
    assert "Verified by Provider X" in html
    assert "Reading on trauma-informed care" in html and "Self-recorded" in html
    assert "Reading or research" in html and "2.5 hours" in html
    assert "Private counselling notes" not in html
    assert "private.pdf" not in html
    assert "A private reflection" not in html  # reflections are never shared
    assert f"/evidence/{portfolio['verified_file'].id}" in html


def test_evidence_opens_only_for_entries_in_the_link(client, portfolio, make_user, make_entry):
    _, token = make_link(portfolio, portfolio["verified"])
    ok = client.get(f"/shared/{token}/evidence/{portfolio['verified_file'].id}")
    assert ok.status_code == 200
    assert ok.data == b"%PDF-1.4\nverified certificate\n"
    ok.close()
    assert ok.headers["Cache-Control"] == "private, no-store"
    assert ok.headers["Referrer-Policy"] == "no-referrer"
    assert ok.headers["X-Content-Type-Options"] == "nosniff"
    # her own evidence of an entry not in the link, and a file id that does not exist
    for evidence_id in (portfolio["reading_file"].id, portfolio["private_file"].id, 999_999):
        refused = client.get(f"/shared/{token}/evidence/{evidence_id}")
        assert refused.status_code == 404
        assert UNAVAILABLE in refused.get_data(as_text=True)
        assert refused.headers["Referrer-Policy"] == "no-referrer"


def test_someone_elses_evidence_never_opens_through_a_link(
    client, portfolio, make_user, make_entry, add_evidence
):
    other = make_user()
    theirs = add_evidence(make_entry(other, "Theirs"))
    _, token = make_link(portfolio, portfolio["verified"])
    assert client.get(f"/shared/{token}/evidence/{theirs.id}").status_code == 404


def test_a_missing_evidence_file_is_a_404_not_a_500(client, portfolio):
    _, token = make_link(portfolio, portfolio["verified"])
    path_for(portfolio["verified_file"]).unlink()
    response = client.get(f"/shared/{token}/evidence/{portfolio['verified_file'].id}")
    assert response.status_code == 404


def test_the_link_stops_working_at_its_expiry(client, portfolio):
    link, token = make_link(portfolio, portfolio["verified"], days=0)
    # it works all of today, and not a moment after
    assert sharing.open_link(token, now=link.expires_at - timedelta(seconds=1)).entries
    with pytest.raises(sharing.LinkUnavailable) as refused:
        sharing.open_link(token, now=link.expires_at)
    assert refused.value.gone
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(f"/shared/{token}")
    html = response.get_data(as_text=True)
    assert response.status_code == 410
    assert UNAVAILABLE in html and "Ada Lovelace" not in html
    assert "Kind, Understanding" not in html
    assert client.get(f"/shared/{token}/evidence/{portfolio['verified_file'].id}").status_code == (
        410
    )


def test_the_link_stops_working_once_revoked(client, login, csrf, portfolio):
    link, token = make_link(portfolio, portfolio["verified"])
    assert client.get(f"/shared/{token}").status_code == 200
    login(client, portfolio["ada"])
    confirm = client.get(f"/portfolio/share/{link.id}/revoke")
    assert confirm.status_code == 200 and "Yes, revoke the link" in confirm.get_data(as_text=True)
    response = client.post(f"/portfolio/share/{link.id}/revoke", data={"csrf_token": csrf(client)})
    assert response.status_code == 303
    visitor = client.application.test_client()
    gone = visitor.get(f"/shared/{token}")
    assert gone.status_code == 410 and UNAVAILABLE in gone.get_data(as_text=True)
    evidence = visitor.get(f"/shared/{token}/evidence/{portfolio['verified_file'].id}")
    assert evidence.status_code == 410
    assert "Revoked" in client.get("/portfolio/share").get_data(as_text=True)


def test_revoking_needs_the_csrf_token(client, login, portfolio):
    link, token = make_link(portfolio, portfolio["verified"])
    login(client, portfolio["ada"])
    assert client.post(f"/portfolio/share/{link.id}/revoke").status_code == 400
    assert client.get(f"/shared/{token}").status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "a" * 43,
        "a" * 500,
        "%ff%fe",
        "..%2E%2E",
        "%F0%9F%98%80" * 20,
        "' OR 1=1 --",
        "%ED%A0%80" * 15,
    ],
)
def test_odd_or_unknown_tokens_get_the_same_plain_page(client, portfolio, token):
    make_link(portfolio, portfolio["verified"])
    for path in (f"/shared/{token}", f"/shared/{token}/evidence/{portfolio['verified_file'].id}"):
        response = client.get(path)
        assert response.status_code == 404, path
        html = response.get_data(as_text=True)
        assert "Ada Lovelace" not in html
        if "%00" in token:  # control characters never reach a view (academy/params.py): plain 404
            continue
        assert UNAVAILABLE in html
        assert response.headers["X-Robots-Tag"].startswith("noindex")


def test_a_token_with_a_control_character_matches_no_route(client, portfolio):
    # academy.params: a path value holding NUL or another control character is refused by the
    # URL converter, before any view runs (the site's own 404 page)
    make_link(portfolio, portfolio["verified"])
    for path in ("/shared/%00", f"/shared/a%1Fb/evidence/{portfolio['verified_file'].id}"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Ada Lovelace" not in response.get_data(as_text=True)


def test_a_token_with_a_slash_matches_no_route_and_is_a_plain_404(client, portfolio):
    _, token = make_link(portfolio, portfolio["verified"])
    for path in (f"/shared/..%2F..%2F{token}", f"/shared/{token}%2Fevidence"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Ada Lovelace" not in response.get_data(as_text=True)


def test_huge_ids_are_not_found(client, login, portfolio):
    _, token = make_link(portfolio, portfolio["verified"])
    assert client.get(f"/shared/{token}/evidence/{2**63}").status_code == 404
    login(client, portfolio["ada"])
    assert client.get(f"/portfolio/share/{2**63}/revoke").status_code == 404


def test_a_deleted_entry_disappears_from_the_link(client, portfolio):
    _, token = make_link(portfolio, portfolio["verified"], portfolio["reading"])
    db.session.delete(db.session.get(LearningRecordEntry, portfolio["reading"].id))
    db.session.commit()
    html = client.get(f"/shared/{token}").get_data(as_text=True)
    assert "Kind, Understanding, Fair" in html
    assert "Reading on trauma-informed care" not in html


def test_a_withdrawn_completion_is_not_shown_as_verified_learning(client, portfolio):
    _, token = make_link(portfolio, portfolio["verified"], portfolio["reading"])
    portfolio["verified"].withdrawn_at = utcnow()
    db.session.commit()
    html = client.get(f"/shared/{token}").get_data(as_text=True)
    assert "Kind, Understanding, Fair" not in html
    assert client.get(f"/shared/{token}/evidence/{portfolio['verified_file'].id}").status_code == (
        404
    )


def form(portfolio, **overrides):
    data = {
        "entries": [str(portfolio["verified"].id)],
        "label": "For my appraisal",
        "expires_on": (sharing.today() + timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"entries": []}, "Choose at least one entry to share."),
        ({"entries": ["abc"]}, "Choose entries from the list."),
        ({"entries": ["999999"]}, "Choose entries from the list."),
        ({"label": "   "}, "Give the link a label"),
        ({"label": "x" * 121}, "Labels are at most 120 characters."),
        ({"expires_on": "yesterday"}, "Enter the date like 2026-07-31."),
        ({"expires_on": "2020-01-01"}, "The date must be today or later."),
        ({"expires_on": "2999-01-01"}, "A link can last at most a year"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_keeps_what_was_typed(
    client, login, csrf, portfolio, overrides, message
):
    login(client, portfolio["ada"])
    data = form(portfolio, **overrides)
    response = client.post("/portfolio/share", data={**data, "csrf_token": csrf(client)})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "There is a problem" in html
    # what was typed is still there
    if "label" not in overrides:
        assert 'value="For my appraisal"' in html
    if "entries" not in overrides:
        entry_id = portfolio["verified"].id
        assert f'value="{entry_id}" id="entry-{entry_id}" checked' in html
    if "expires_on" in overrides:
        assert f'value="{overrides["expires_on"]}"' in html
    assert db.session.scalar(select(ShareLink)) is None


def test_another_learners_entry_cannot_be_shared(client, login, csrf, portfolio, make_user):
    bea = make_user()
    login(client, bea)
    response = client.post(
        "/portfolio/share",
        data={**form(portfolio), "csrf_token": csrf(client)},
    )
    assert response.status_code == 422
    assert db.session.scalar(select(ShareLink)) is None
    with pytest.raises(sharing.ShareError):
        sharing.create_link(
            bea,
            [portfolio["verified"].id],
            label="Stolen",
            expires_on=sharing.today(),
        )


def test_another_learner_cannot_see_or_revoke_a_link(client, login, csrf, portfolio, make_user):
    link, token = make_link(portfolio, portfolio["verified"], label="Ada's appraisal")
    login(client, make_user())
    assert "Ada's appraisal" not in client.get("/portfolio/share").get_data(as_text=True)
    assert client.get(f"/portfolio/share/{link.id}/revoke").status_code == 404
    response = client.post(f"/portfolio/share/{link.id}/revoke", data={"csrf_token": csrf(client)})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ShareLink, link.id).revoked_at is None
    assert client.get(f"/shared/{token}").status_code == 200


def test_empty_states(client, login, make_user, make_entry):
    learner = make_user()
    login(client, learner)
    html = client.get("/portfolio/share").get_data(as_text=True)
    assert "You have not shared your portfolio yet." in html
    assert "no entries to share yet" in html


def test_pages_run_a_fixed_number_of_queries(
    client, login, portfolio, make_entry, add_evidence, count_queries
):
    few = [portfolio["verified"]]
    many = [make_entry(portfolio["ada"], f"Entry {n}") for n in range(8)]
    for entry in many:
        add_evidence(entry)
    _, few_token = make_link(portfolio, *few)
    _, many_token = make_link(portfolio, *many)
    counts = []
    for token in (few_token, many_token):
        with count_queries() as counter:
            assert client.get(f"/shared/{token}").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 3
    login(client, portfolio["ada"])
    with count_queries() as one_link:
        client.get("/portfolio/share")
    for _ in range(5):
        make_link(portfolio, *many)
    with count_queries() as six_links:
        client.get("/portfolio/share")
    assert one_link.count == six_links.count
