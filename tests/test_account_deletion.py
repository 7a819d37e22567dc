"""Deleting one's account: afterwards nothing in the database or on disk names the learner, the
account cannot be used, and providers' counts of places and completions are unchanged."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from academy import audit
from academy.accounts import services as accounts
from academy.accounts.models import ProviderMembership, User
from academy.audit import AuditEntry
from academy.catalogue.models import Cohort
from academy.enrolment import services as enrolment
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.mail import outbox
from academy.mail.models import OutboxMessage
from academy.portfolio import sharing
from academy.portfolio.models import (
    EvidenceFile,
    IssuedCredential,
    LearningRecordEntry,
    ShareLink,
)
from academy.providers import cohorts as provider_cohorts
from academy.providers import services as provider_services
from tests.conftest import TEST_PASSWORD

NAME = "Zebedee Quartermaine"
EMAIL = "zq-unique@example.org"
#: every way the learner could still be findable
NEEDLES = ("zebedee", "quartermaine", "zq-unique", EMAIL)


@pytest.fixture
def evidence_dir(app, tmp_path):
    folder = tmp_path / "evidence"
    app.config["EVIDENCE_DIR"] = str(folder)
    return folder


@pytest.fixture
def zebedee(
    app,
    taxonomy,
    make_provider,
    make_course,
    make_cohort,
    make_user,
    make_entry,
    mail_dir,
    evidence_dir,
    make_evidence,
):
    """A learner with a bit of everything, a provider that has run courses for them, and
    another learner who must be left alone."""
    provider = make_provider("Provider X")
    staff = make_user(name="Sam Staff", staff_of=provider, admin=True)
    course = make_course(
        "Kind, Understanding, Fair", provider=provider, cpd_hours=6, allow_repeats=True
    )
    done, upcoming, left, requested = (make_cohort(course, capacity=3) for _ in range(4))
    learner = make_user(EMAIL, name=NAME)
    learner.employer = "Quartermaine Care Ltd"
    learner.regulator = "nmc"
    learner.revalidation_on = date(2027, 4, 30)
    learner.sector = next(iter(taxonomy["sectors"].values()))
    learner.region = next(iter(taxonomy["regions"].values()))
    other = make_user("someone.else@example.org", name="Olive Other")

    # places: one completed (a verified entry), one to come with access needs, one withdrawn
    completed = enrolment.enrol(learner, done.id, access_needs="Zebedee uses a wheelchair")
    enrolment.enrol(other, done.id)
    enrolment.enrol(learner, upcoming.id, access_needs="Hearing loop for Zebedee Quartermaine")
    gone = enrolment.enrol(learner, left.id)
    db.session.commit()
    enrolment.withdraw(learner, gone.id, reason="Quartermaine family matters")
    asked = enrolment.enrol(learner, requested.id)
    asked.status = "declined"
    asked.request_reason = "I, Zebedee, have ten years in housing"
    asked.decision_message = "Sorry Zebedee, this cohort is for managers"
    provider_cohorts.mark(staff, done, [completed.id], "completed", now=done.ends_at)
    audit.record(
        staff,
        "request.declined",
        f"Declined {NAME}'s request",
        provider=provider,
        detail={"cohort": requested.id, "message": "Sorry Zebedee, this cohort is for managers"},
    )
    audit.record(learner, "profile.note", f"{NAME} did something", detail={"email": EMAIL})
    provider_services.invite(staff, provider, EMAIL, accept_url=lambda token: f"/join/{token}")
    db.session.commit()

    verified = db.session.scalar(
        select(LearningRecordEntry).where(LearningRecordEntry.enrolment_id == completed.id)
    )
    verified.learnt = "What Zebedee Quartermaine learnt"
    db.session.add(
        IssuedCredential(
            public_id="11111111-2222-3333-4444-555555555555",
            user_id=learner.id,
            entry_id=verified.id,
            signed=f"eyJ.{NAME}.{EMAIL}.sig",
        )
    )
    reflection = make_entry(
        learner,
        "Supervision with my manager",
        method="supervision",
        hours=1,
        learnt="Zebedee Quartermaine learnt to listen",
        change_to_practice="I slow down",
        peer_name="A colleague of Zebedee",
        learner_note=f"Contact me at {EMAIL}",
    )
    make_evidence(verified, f"Certificate: {NAME}".encode(), "zebedee-certificate.pdf")
    make_evidence(reflection, f"Notes by {NAME} <{EMAIL}>".encode(), "quartermaine-notes.pdf")
    sharing.create_link(
        learner,
        [verified.id, reflection.id],
        label="For Zebedee's appraisal",
        expires_on=(sharing.today() + timedelta(days=5)),
    )
    accounts.request_password_reset(EMAIL)
    with pytest.raises(accounts.InvalidCredentials):
        accounts.authenticate(EMAIL, "not the password at all", "10.0.0.1")
    outbox.queue(
        other.email, "already_registered", user=learner, login_url="/login"
    )  # mail to someone else that names the learner
    db.session.commit()
    outbox.send_pending()  # writes .eml files into mail_dir
    assert any(EMAIL in p.read_text() for p in mail_dir.glob("*.eml"))
    return {
        "learner": learner,
        "other": other,
        "staff": staff,
        "provider": provider,
        "cohorts": [done, upcoming, left, requested],
    }


def counts() -> dict:
    """Places taken per cohort and enrolments per cohort and status."""
    return {
        "seats": dict(db.session.execute(select(Cohort.id, Cohort.seats_taken)).all()),
        "statuses": {
            (cohort_id, status): n
            for cohort_id, status, n in db.session.execute(
                select(Enrolment.cohort_id, Enrolment.status, func.count()).group_by(
                    Enrolment.cohort_id, Enrolment.status
                )
            ).all()
        },
    }


def found_in_database() -> list[str]:
    hits = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(select(table)).mappings():
            for column, value in row.items():
                text = str(value).lower() if value is not None else ""
                hits += [f"{table.name}.{column}: {n}" for n in NEEDLES if n in text]
    return hits


def found_in_files(app) -> list[str]:
    hits = []
    folders = {
        app.instance_path,
        app.config["EVIDENCE_DIR"],
        app.config["MAIL_FILE_DIR"],
        app.config["SEARCH_INDEX_DIR"],
    }
    for folder in folders:
        for root, _, names in os.walk(folder):
            for name in names:
                path = Path(root) / name
                data = path.read_bytes().lower()
                hits += [f"{path}: {n}" for n in NEEDLES if n.encode() in data or n in name]
    return hits


def delete_form(client, csrf, password=TEST_PASSWORD, confirm="y"):
    data = {"password": password, "csrf_token": csrf(client)}
    if confirm:
        data["confirm"] = confirm
    return client.post("/account/delete", data=data)


def test_after_deletion_nothing_names_the_learner_and_past_counts_are_unchanged(
    app, client, login, csrf, zebedee
):
    before = counts()
    assert found_in_database() and found_in_files(app)  # the search does find things
    login(client, zebedee["learner"])
    page = client.get("/account/delete").get_data(as_text=True)
    assert "What we delete" in page and "anonymous count" in page
    response = delete_form(client, csrf)
    assert response.status_code == 303
    db.session.expire_all()
    assert found_in_database() == []
    assert found_in_files(app) == []
    # the place on the cohort still to come is given up; everything else counts as before
    upcoming = zebedee["cohorts"][1].id
    before["seats"][upcoming] -= 1
    before["statuses"][(upcoming, "enrolled")] -= 1
    before["statuses"][(upcoming, "withdrawn")] = 1
    after = counts()
    after["statuses"] = {key: n for key, n in after["statuses"].items() if n}
    before["statuses"] = {key: n for key, n in before["statuses"].items() if n}
    assert after == before
    learner = db.session.get(User, zebedee["learner"].id)
    assert learner.name == "Deleted learner" and learner.deleted_at is not None
    assert learner.email.endswith("@deleted.invalid") and not learner.is_curator
    assert learner.employer == "" and learner.sector_id is None and learner.regulator == ""
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(LearningRecordEntry)
            .where(LearningRecordEntry.user_id == learner.id)
        )
        == 0
    )
    assert db.session.scalar(select(func.count()).select_from(ShareLink)) == 0
    assert db.session.scalar(select(func.count()).select_from(EvidenceFile)) == 0
    credential = db.session.scalar(select(IssuedCredential))
    assert credential.revoked_at is not None and credential.signed == ""
    assert credential.revocation_reason == "account deleted"
    for enrolment_row in db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == learner.id)
    ):
        assert enrolment_row.access_needs == enrolment_row.request_reason == ""
        assert enrolment_row.withdrawal_reason == enrolment_row.decision_message == ""
    actions = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert actions[-1].action == "account.deleted" and actions[-1].actor_id is None
    assert "profile.note" in {a.action for a in actions}  # the action stays
    assert {a.actor_name for a in actions if a.actor_id == learner.id} == {"Deleted user"}
    # the other learner is untouched, and their mail too (scrubbed of Zebedee's name)
    other = db.session.get(User, zebedee["other"].id)
    assert other.name == "Olive Other" and other.email == "someone.else@example.org"
    assert db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.to_address == other.email, OutboxMessage.kind == "already_registered"
        )
    ).body.startswith("Hello Deleted learner")
    # rosters keep the place, without the person
    staff = app.test_client()
    login(staff, zebedee["staff"])
    slug = zebedee["provider"].slug
    roster = staff.get(f"/provider/{slug}/cohorts/{zebedee['cohorts'][0].id}")
    assert "Deleted learner" in roster.get_data(as_text=True)


def test_a_deleted_account_cannot_log_in_and_its_cookies_stop_working(
    app, client, login, csrf, make_user
):
    learner = make_user(EMAIL, name=NAME)
    login(client, learner)
    copied_cookie = client.get_cookie("session").value
    other_device = app.test_client()
    login(other_device, learner)
    assert other_device.get("/account").status_code == 200
    assert delete_form(client, csrf).status_code == 303
    assert client.get("/account").status_code == 302  # logged out here
    assert other_device.get("/account").status_code == 302  # and everywhere else
    replay = app.test_client()
    replay.set_cookie("session", copied_cookie)
    assert replay.get("/account").status_code == 302
    with pytest.raises(accounts.InvalidCredentials):
        accounts.authenticate(EMAIL, TEST_PASSWORD, "10.0.0.2")
    form = app.test_client()
    response = form.post(
        "/login", data={"email": EMAIL, "password": TEST_PASSWORD, "csrf_token": csrf(form)}
    )
    assert response.status_code == 422
    deleted = db.session.scalar(select(User).where(User.name == "Deleted learner"))
    with pytest.raises(accounts.AccountError):
        accounts.authenticate(deleted.email, TEST_PASSWORD, "10.0.0.3")


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("not my password at all", "y", "Your password is not right"),
        ("", "y", "Enter your password."),
        (TEST_PASSWORD, "", "Tick the box to confirm"),
    ],
)
def test_a_refused_deletion_changes_nothing(
    client, login, csrf, make_user, make_entry, password, confirm, message
):
    learner = make_user(EMAIL, name=NAME)
    make_entry(learner, "Something I learnt")
    login(client, learner)
    response = delete_form(client, csrf, password=password, confirm=confirm)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and "There is a problem" in html
    db.session.expire_all()
    assert db.session.get(User, learner.id).name == NAME
    assert db.session.scalar(select(func.count()).select_from(LearningRecordEntry)) == 1
    assert client.get("/account").status_code == 200  # still logged in


def test_the_only_admin_of_an_organisation_must_hand_over_first(
    client, login, csrf, make_user, make_provider
):
    provider = make_provider("Provider X")
    admin = make_user(EMAIL, name=NAME, staff_of=provider, admin=True)
    login(client, admin)
    assert "You are the only admin of Provider X" in client.get("/account/delete").get_data(
        as_text=True
    )
    response = delete_form(client, csrf)
    assert response.status_code == 422
    assert "You are the only admin of Provider X" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).deleted_at is None
    # with a second admin, the first may go; the membership goes with the account
    make_user(staff_of=provider, admin=True)
    assert delete_form(client, csrf).status_code == 303
    assert (
        db.session.scalar(select(ProviderMembership).where(ProviderMembership.user_id == admin.id))
        is None
    )


def test_deleting_needs_the_csrf_token(client, login, make_user):
    learner = make_user(EMAIL, name=NAME)
    login(client, learner)
    response = client.post("/account/delete", data={"password": TEST_PASSWORD, "confirm": "y"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, learner.id).deleted_at is None


def test_the_account_page_offers_deletion(client, login, make_user):
    login(client, make_user())
    assert "/account/delete" in client.get("/account").get_data(as_text=True)


def test_deleting_an_account_gives_its_upcoming_place_to_the_waitlist(
    app, client, login, csrf, make_course, make_cohort, make_user
):
    course = make_course("Relational supervision")
    soon = make_cohort(course, capacity=1)
    started = make_cohort(course, capacity=1, days=-2)
    leaving, waiting = make_user(name="Leaving Learner"), make_user(name="Waiting Learner")
    enrolment.enrol(leaving, soon.id)
    db.session.add(Enrolment(user_id=leaving.id, cohort_id=started.id, status="enrolled"))
    started.seats_taken = 1
    assert enrolment.enrol(waiting, soon.id).status == "waitlisted"
    db.session.commit()

    login(client, leaving)
    assert delete_form(client, csrf).status_code == 303
    db.session.expire_all()
    statuses = dict(
        db.session.execute(
            select(Enrolment.user_id, Enrolment.status).where(Enrolment.cohort_id == soon.id)
        ).all()
    )
    assert statuses == {leaving.id: "withdrawn", waiting.id: "enrolled"}
    assert db.session.get(Cohort, soon.id).seats_taken == 1
    # a cohort that has started keeps the (anonymised) place as it was
    assert db.session.get(Cohort, started.id).seats_taken == 1
    assert (
        db.session.scalar(select(Enrolment.status).where(Enrolment.cohort_id == started.id))
        == "enrolled"
    )


def test_files_stay_when_the_erasure_is_rolled_back_and_go_when_it_commits(
    app, make_user, make_entry, make_evidence, evidence_dir
):
    from academy import erasure
    from academy.portfolio.evidence_store import path_for

    learner = make_user(EMAIL, name=NAME)
    path = path_for(make_evidence(make_entry(learner, "Kept until commit")))
    erasure.erase_account(learner, TEST_PASSWORD)
    db.session.rollback()
    assert path.is_file()
    erasure.erase_account(db.session.get(User, learner.id), TEST_PASSWORD)
    assert path.is_file()  # not before the commit
    db.session.commit()
    assert not path.is_file()


def test_the_coordinator_writes_other_domains_rows_only_through_their_functions():
    """``academy/erasure.py`` imports no domain's models but the account it erases (and the
    audit log, which is the ground floor's); each domain deletes its own rows."""
    import ast

    from academy import PROJECT_ROOT

    tree = ast.parse((PROJECT_ROOT / "academy" / "erasure.py").read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    models = {name for name in imported if name.endswith(".models")}
    assert models == {"academy.accounts.models"}
    for domain in ("enrolment", "portfolio", "providers", "mail"):
        assert any(name.startswith(f"academy.{domain}") for name in imported)
