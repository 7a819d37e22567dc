"""Open Badges 3.0 credentials and the CLR: issuing, verifying, tampering, revocation (by the
learner and by a provider's correction), key rotation, and the published JSON Schemas."""

from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jsonschema import Draft201909Validator
from sqlalchemy import select

from academy.credentials import clr, keys, openbadges
from academy.credentials.verify import verify
from academy.enrolment import services as enrolment_services
from academy.extensions import db
from academy.portfolio import completions
from academy.portfolio.models import IssuedCredential
from academy.providers import cohorts

SCHEMAS = Path(__file__).parent / "schemas"


def schema(name: str) -> Draft201909Validator:
    return Draft201909Validator(json.loads((SCHEMAS / name).read_text()))


@pytest.fixture
def learner(make_user):
    return make_user(email="Ada.Learner@example.org", name="Ada Learner")


@pytest.fixture
def verified(make_course, make_entry, learner):
    """A verified entry for a real course on the Awareness step."""
    course = make_course("KUF Awareness", step=1, summary="Working with personality disorder.")

    def make(title: str | None = None, course=course, **fields):
        return make_entry(
            learner,
            title or course.title,
            completed=date(2026, 5, 20),
            verified=True,
            course_id=course.id,
            provider_id=course.provider_id,
            provider_name=course.provider.name,
            hours=21,
            method="course",
            **fields,
        )

    return make


def issue(client, login, csrf, user, entry) -> IssuedCredential:
    login(client, user)
    response = client.post(
        f"/portfolio/export/entries/{entry.id}/credential", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 303
    return db.session.scalar(select(IssuedCredential).where(IssuedCredential.entry_id == entry.id))


def download(client, credential) -> str:
    response = client.get(f"/portfolio/export/credentials/{credential.public_id}.jwt")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    return response.get_data(as_text=True)


def test_an_issued_credential_verifies(client, login, csrf, learner, verified):
    entry = verified()
    credential = issue(client, login, csrf, learner, entry)
    token = download(client, credential)

    verdict = verify(token)
    assert verdict.status == "valid", verdict.reason
    assert verdict.credential["credentialSubject"]["achievement"]["name"] == "KUF Awareness"

    page = client.post(
        "/credentials/verify", data={"credential": token, "csrf_token": csrf(client)}
    )
    assert page.status_code == 200
    assert '<h2 id="verdict-heading">Valid</h2>' in page.get_data(as_text=True)


def test_issuing_twice_gives_the_same_credential(client, login, csrf, learner, verified):
    entry = verified()
    first = issue(client, login, csrf, learner, entry)
    second = issue(client, login, csrf, learner, entry)
    assert first.public_id == second.public_id


@pytest.mark.parametrize("part", [0, 1, 2])
def test_one_changed_character_fails_verification(client, login, csrf, learner, verified, part):
    token = download(client, issue(client, login, csrf, learner, verified()))
    pieces = token.split(".")
    middle = len(pieces[part]) // 2
    original = pieces[part][middle]
    pieces[part] = (
        pieces[part][:middle] + ("A" if original != "A" else "B") + pieces[part][middle + 1 :]
    )
    tampered = ".".join(pieces)

    verdict = verify(tampered)
    assert verdict.status == "invalid"
    assert verdict.reason


def test_a_byte_changed_in_an_uploaded_file_fails(client, login, csrf, learner, verified):
    token = download(client, issue(client, login, csrf, learner, verified()))
    raw = bytearray(token.encode())
    raw[len(raw) - 5] ^= 0x01  # flip one bit of the signature
    page = client.post(
        "/credentials/verify",
        data={
            "file": (__import__("io").BytesIO(bytes(raw)), "badge.jwt"),
            "csrf_token": csrf(client),
        },
        content_type="multipart/form-data",
    )
    assert page.status_code == 200
    assert "Not valid" in page.get_data(as_text=True)


def test_a_token_signed_by_another_key_is_not_valid(client, login, csrf, learner, verified):
    token = download(client, issue(client, login, csrf, learner, verified()))
    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(payload, stranger, algorithm="RS256", headers={"kid": header["kid"]})

    verdict = verify(forged)
    assert verdict.status == "invalid"
    assert "altered" in verdict.reason


def test_the_learner_can_revoke_and_verifiers_see_it(client, login, csrf, learner, verified):
    entry = verified()
    credential = issue(client, login, csrf, learner, entry)
    token = download(client, credential)
    url = f"/portfolio/export/credentials/{credential.public_id}/revoke"

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Revoke your credential for KUF Awareness?" in confirm.get_data(as_text=True)
    done = client.post(url, data={"reason": "Sent to the wrong person", "csrf_token": csrf(client)})
    assert done.status_code == 303

    verdict = verify(token)
    assert verdict.status == "revoked"
    assert verdict.reason == "Sent to the wrong person"
    assert verdict.revoked_at is not None
    status = client.get(f"/credentials/status/{credential.public_id}").get_json()
    assert status["type"] == "1EdTechRevocationList"
    assert status["revokedCredentials"][0]["id"] == f"urn:uuid:{credential.public_id}"
    assert "Revoked" in client.get(f"/credentials/{credential.public_id}").get_data(as_text=True)


def test_revoking_without_a_valid_form_changes_nothing(app, client, login, csrf, learner, verified):
    credential = issue(client, login, csrf, learner, verified())
    url = f"/portfolio/export/credentials/{credential.public_id}/revoke"
    response = client.post(url, data={"reason": "x" * 500, "csrf_token": csrf(client)})
    assert response.status_code == 422
    assert "x" * 500 in response.get_data(as_text=True)  # what was typed is kept
    assert client.post(url, data={"reason": "no token"}).status_code == 400  # CSRF refused
    db.session.refresh(credential)
    assert credential.revoked_at is None


def test_a_new_credential_can_follow_a_revoked_one(client, login, csrf, learner, verified):
    entry = verified()
    old = issue(client, login, csrf, learner, entry)
    old_token = download(client, old)
    client.post(
        f"/portfolio/export/credentials/{old.public_id}/revoke",
        data={"reason": "", "csrf_token": csrf(client)},
    )
    new = issue(client, login, csrf, learner, entry)
    assert new.public_id != old.public_id
    assert verify(download(client, new)).status == "valid"
    assert verify(old_token).status == "revoked"


def test_a_provider_withdrawal_revokes_the_credential(
    client, login, csrf, make_user, make_provider, make_course, make_cohort
):
    provider = make_provider("Leeds Trust")
    staff = make_user(staff_of=provider, admin=True)
    course = make_course("MBT Basic", provider=provider, cpd_hours=18)
    cohort = make_cohort(course)
    learner = make_user()
    enrolment = enrolment_services.enrol(learner, cohort.id)
    db.session.commit()
    after = cohort.starts_at  # marks wait for the last (here the only) session to start
    cohorts.mark(staff, cohort, [enrolment.id], "completed", now=after)
    db.session.commit()
    entry = completions.verified_entries(learner)[0]
    credential = issue(client, login, csrf, learner, entry)
    token = download(client, credential)
    assert verify(token).status == "valid"

    cohorts.mark(
        staff, cohort, [enrolment.id], "not_completed", note="Left after day one.", now=after
    )
    db.session.commit()

    verdict = verify(token)
    assert verdict.status == "revoked"
    assert "Left after day one." in verdict.reason
    page = client.get("/portfolio/export").get_data(as_text=True)
    assert "The provider withdrew this completion" in page
    refused = client.post(
        f"/portfolio/export/entries/{entry.id}/credential", data={"csrf_token": csrf(client)}
    )
    assert refused.status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(IssuedCredential)) == 1


def test_old_credentials_still_verify_after_key_rotation(
    app, client, login, csrf, learner, verified, make_course
):
    old = issue(client, login, csrf, learner, verified())
    old_token = download(client, old)
    result = app.test_cli_runner().invoke(args=["credentials", "rotate-key"])
    assert result.exit_code == 0, result.output
    other = make_course("MBT Practitioner", step=2)
    new = issue(client, login, csrf, learner, verified(course=other))
    new_token = download(client, new)

    assert (
        jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
    )
    assert new.key_id != old.key_id
    assert verify(old_token).status == "valid"
    assert verify(new_token).status == "valid"
    published = client.get("/credentials/keys.json").get_json()
    assert [k["kid"] for k in published["keys"]] == [new.key_id, old.key_id]


def test_keys_are_private_files_named_by_thumbprint(app, ctx):
    key = keys.current_key()
    files = list(Path(app.config["CREDENTIALS_KEY_DIR"]).iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700
    assert key.kid == keys.thumbprint(key.public_key)
    assert keys.current_key().kid == key.kid  # made once, then reused
    published = keys.jwks()["keys"][0]
    assert published["kid"] == key.kid
    assert not {"d", "p", "q", "dp", "dq", "qi"} & published.keys()


def test_the_credential_matches_the_open_badges_schema(client, login, csrf, learner, verified):
    entry = verified(started_on=date(2026, 5, 18))
    token = download(client, issue(client, login, csrf, learner, entry))
    credential = verify(token).credential

    errors = sorted(
        schema("ob_v3p0_achievementcredential_schema.json").iter_errors(credential), key=str
    )
    assert errors == []
    broken = dict(credential, issuer={"name": "No id or type"})
    del broken["validFrom"]
    assert len(list(schema("ob_v3p0_achievementcredential_schema.json").iter_errors(broken))) >= 2
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["id"].endswith("/credentials/issuer")
    assert credential["credentialStatus"]["type"] == "1EdTechRevocationList"
    subject = credential["credentialSubject"]
    email_id = next(i for i in subject["identifier"] if i["identityType"] == "emailAddress")
    import hashlib

    expected = hashlib.sha256(("ada.learner@example.org" + email_id["salt"]).encode()).hexdigest()
    assert email_id["identityHash"] == f"sha256${expected}"
    assert "example.org" not in json.dumps(credential)
    alignment = subject["achievement"]["alignment"][0]
    assert alignment["targetCode"] == "awareness"


def test_the_issuer_profile_and_keys_are_public(client, login, csrf, learner, verified):
    issue(client, login, csrf, learner, verified())
    anonymous = client.application.test_client()
    profile = anonymous.get("/credentials/issuer").get_json()
    assert profile["type"] == ["Profile"]
    assert profile["id"] == "http://localhost/credentials/issuer"
    profile_schema = schema("ob_v3p0_achievementcredential_schema.json").schema["$defs"]["Profile"]
    assert list(Draft201909Validator(profile_schema).iter_errors(profile)) == []
    assert len(anonymous.get("/credentials/keys.json").get_json()["keys"]) == 1


def test_the_public_page_shows_what_it_certifies_and_no_email(
    client, login, csrf, learner, verified
):
    credential = issue(client, login, csrf, learner, verified())
    anonymous = client.application.test_client()
    page = anonymous.get(f"/credentials/{credential.public_id}").get_data(as_text=True)
    assert "KUF Awareness" in page and "Ada Learner" in page and "Valid." in page
    assert "example.org" not in page.lower()
    assert anonymous.get("/credentials/not-a-uuid").status_code == 404
    assert anonymous.get("/credentials/00000000-0000-0000-0000-000000000000").status_code == 404
    assert anonymous.get("/credentials/status/nope").status_code == 404


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJ9.",
        "eyJhbGciOiJIUzI1NiJ9.e30.c2ln",
        '{"compactJwsString": []}',
        '{"compactJwsString": [42]}',
        "{not json",
        "\x00\x01\x02",
        "é" * 5000,
    ],
)
def test_odd_input_is_reported_not_valid(client, csrf, text):
    response = client.post(
        "/credentials/verify", data={"credential": text, "csrf_token": csrf(client)}
    )
    assert response.status_code in (200, 422)
    assert response.status_code != 500
    if response.status_code == 200:
        assert "Not valid" in response.get_data(as_text=True)


def test_a_binary_upload_gets_a_plain_message(client, csrf):
    import io

    response = client.post(
        "/credentials/verify",
        data={
            "file": (io.BytesIO(b"\xff\xd8\xff\xe0JFIF"), "photo.jpg"),
            "csrf_token": csrf(client),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "not a credential" in response.get_data(as_text=True)
    empty = client.post("/credentials/verify", data={"csrf_token": csrf(client)})
    assert empty.status_code == 422
    assert "Paste a credential" in empty.get_data(as_text=True)


def test_learner_b_cannot_reach_a_s_credentials(client, login, csrf, make_user, learner, verified):
    entry = verified()
    credential = issue(client, login, csrf, learner, entry)
    other = make_user()
    b = client.application.test_client()
    login(b, other)
    token = csrf(b)
    assert b.get(f"/portfolio/export/credentials/{credential.public_id}.jwt").status_code == 404
    assert b.get(f"/portfolio/export/credentials/{credential.public_id}/revoke").status_code == 404
    revoke = b.post(
        f"/portfolio/export/credentials/{credential.public_id}/revoke",
        data={"reason": "mine now", "csrf_token": token},
    )
    assert revoke.status_code == 404
    assert (
        b.post(
            f"/portfolio/export/entries/{entry.id}/credential", data={"csrf_token": token}
        ).status_code
        == 404
    )
    db.session.refresh(credential)
    assert credential.revoked_at is None
    page = b.get("/portfolio/export").get_data(as_text=True)
    assert credential.public_id not in page and "KUF Awareness" not in page


def test_self_recorded_entries_get_no_credential(client, login, csrf, learner, make_entry):
    entry = make_entry(learner, "My own reading", verified=False)
    login(client, learner)
    response = client.post(
        f"/portfolio/export/entries/{entry.id}/credential", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 303
    assert db.session.scalar(select(db.func.count()).select_from(IssuedCredential)) == 0


def test_the_clr_bundles_verified_achievements_with_associations(
    client, login, csrf, learner, verified, make_course, make_programme, make_entry
):
    awareness = make_course("KUF Awareness", step=1)
    bsc = make_course("KUF BSc module 1", step=2, provider=awareness.provider)
    bsc.prerequisites.append(awareness)
    db.session.commit()
    programme = make_programme("KUF Developing Understanding", [bsc])
    verified(course=awareness)
    verified(course=bsc)
    make_entry(learner, "Self-recorded reading", verified=False)
    login(client, learner)

    response = client.get("/portfolio/clr.json")
    assert response.status_code == 200
    token = response.get_json()["compactJwsString"][0]
    verdict = verify(token)
    assert verdict.status == "valid", verdict.reason
    record = verdict.credential
    errors = sorted(schema("clr_v2p0_clrcredential_schema.json").iter_errors(record), key=str)
    assert errors == []
    broken = dict(record, credentialSubject={"type": ["ClrSubject"]})  # no verifiableCredential
    assert list(schema("clr_v2p0_clrcredential_schema.json").iter_errors(broken))

    subject = record["credentialSubject"]
    names = {a["name"] for a in subject["achievement"]}
    assert names == {"KUF Awareness", "KUF BSc module 1", "KUF Developing Understanding"}
    assert "Self-recorded reading" not in json.dumps(record)
    assert len(subject["verifiableCredential"]) == 2
    for badge in subject["verifiableCredential"]:
        assert verify_badge_id_known(badge)
    ids = {a["name"]: a["id"] for a in subject["achievement"]}
    links = {(a["associationType"], a["sourceId"], a["targetId"]) for a in subject["association"]}
    assert ("precedes", ids["KUF Awareness"], ids["KUF BSc module 1"]) in links
    assert ("isPartOf", ids["KUF BSc module 1"], ids["KUF Developing Understanding"]) in links
    assert programme.slug in ids["KUF Developing Understanding"]


def verify_badge_id_known(badge: dict) -> bool:
    record = openbadges.find(badge["id"].removeprefix("urn:uuid:"))
    return record is not None and record.revoked_at is None


def test_a_clr_names_badges_revoked_since(client, login, csrf, learner, verified):
    entry = verified()
    login(client, learner)
    token = client.get("/portfolio/clr.json").get_json()["compactJwsString"][0]
    credential = db.session.scalar(
        select(IssuedCredential).where(IssuedCredential.entry_id == entry.id)
    )
    openbadges.revoke(credential, "Mistake")
    db.session.commit()
    verdict = verify(token)
    assert verdict.status == "valid"
    assert any("Mistake" in note for note in verdict.notes)
    assert clr.clr_entries(learner) == []  # the learner's revocation takes it out of the CLR


def test_a_learner_without_verified_entries_gets_an_empty_clr_response(
    client, login, learner, make_entry
):
    make_entry(learner, "Only self-recorded")
    login(client, learner)
    response = client.get("/portfolio/clr.json")
    assert response.status_code == 200
    assert response.get_json() == {"compactJwsString": []}


def test_private_keys_live_where_git_ignores_them():
    from academy import PROJECT_ROOT, create_app

    app = create_app({"SECRET_KEY": "x", "SEARCH_SYNC": "off"})
    key_dir = Path(app.config["CREDENTIALS_KEY_DIR"])
    instance = Path(app.instance_path)
    assert key_dir.is_relative_to(instance)
    ignored = (PROJECT_ROOT / ".gitignore").read_text().split()
    assert f"{instance.relative_to(PROJECT_ROOT)}/" in ignored
