"""The learner's exports: PDF, CSV, JSON, the data zip, and who may download them."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader

from academy.extensions import db
from academy.portfolio.exports import display_names, entry_columns
from academy.portfolio.models import EvidenceFile, ShareLink


@pytest.fixture
def evidence_dir(app, tmp_path):
    folder = tmp_path / "evidence"
    app.config["EVIDENCE_DIR"] = str(folder)
    return folder


@pytest.fixture
def learner(make_user):
    return make_user(email="grace@example.org", name="Grace Hopper-Łukasiewicz")


def add_evidence(user, entry, filename: str, content: bytes, folder) -> EvidenceFile:
    import hashlib
    import secrets

    stored = secrets.token_hex(16)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / stored).write_bytes(content)
    evidence = EvidenceFile(
        entry_id=entry.id,
        user_id=user.id,
        stored_name=stored,
        filename=filename,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    db.session.add(evidence)
    db.session.commit()
    return evidence


TITLES = [
    "Working with Personality Disorder: Raising Awareness",
    "Mentalization-Based Treatment Basic",
    "Trauma-informed practice in housing services",
    "Open Dialogue foundation course",
    "Peer supervision group, spring term",
    "Psychologically Informed Environments introduction",
    "Reflective practice with the night team",
    "Reading: Therapeutic communities and their evidence",
    "Café conversation on belonging – Zoë's group",
]


def test_the_pdf_names_the_learner_and_every_entry(client, login, learner, make_entry):
    for number, title in enumerate(TITLES):
        make_entry(
            learner,
            title,
            completed=date(2026, 1, 1) + timedelta(days=9 * number),
            hours=3 + number,
            participatory_hours=2,
            verified=number % 2 == 0,
            provider_name="Leeds and York Partnership NHS Foundation Trust",
            method="course",
            themes=["nmc-practise-effectively", "swe-4.6"],
            learnt="I learnt to slow down and ask what happened before the crisis." * 3,
        )
    login(client, learner)
    response = client.get("/portfolio/export.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", text)
    assert "Grace Hopper-Łukasiewicz" in flat
    for title in TITLES:
        assert title in flat, title
    assert f"Page 1 of {len(reader.pages)}" in flat
    assert "9 entries" in flat
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4


def test_the_pdf_of_an_empty_portfolio_says_so(client, login, learner):
    login(client, learner)
    reader = PdfReader(io.BytesIO(client.get("/portfolio/export.pdf").data))
    assert "No learning recorded yet" in reader.pages[0].extract_text()


def read_csv(response) -> list[dict]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # a byte-order mark, for Excel
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_csv_has_every_field_and_defuses_formulas(client, login, learner, make_entry):
    make_entry(
        learner,
        '=HYPERLINK("http://evil.example","click")',
        learner_note="+1+1",
        relevance="-2",
        learnt="@SUM(A1)",
        impact="\tindented",
        peer_reflection="\rreturn",
        change_to_practice="Safe text - with a dash inside",
        peer_name="=cmd",
    )
    login(client, learner)
    response = client.get("/portfolio/export.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = read_csv(response)
    assert len(rows) == 1
    row = rows[0]
    assert set(entry_columns()) <= set(row)
    assert row["title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert row["learner_note"] == "'+1+1"
    assert row["relevance"] == "'-2"
    assert row["learnt"] == "'@SUM(A1)"
    assert row["impact"] == "'\tindented"
    assert row["peer_reflection"].startswith("'\r")
    assert row["peer_name"] == "'=cmd"
    assert row["change_to_practice"] == "Safe text - with a dash inside"


def test_the_json_export_is_complete_and_only_mine(
    client, login, learner, make_user, make_entry, evidence_dir
):
    other = make_user(email="someone.else@example.org", name="Someone Else")
    mine = [
        make_entry(learner, f"My entry {n}", hours=n, themes=["swe-4.7"], relevance=f"why {n}")
        for n in range(3)
    ]
    theirs = make_entry(other, "Their secret entry", learnt="their private reflection")
    add_evidence(learner, mine[0], "certificate.pdf", b"%PDF-1.4 mine", evidence_dir)
    add_evidence(other, theirs, "their.pdf", b"%PDF-1.4 theirs", evidence_dir)
    link = ShareLink(
        user_id=learner.id,
        token_hash="f" * 64,
        label="For my appraisal",
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
        entries=[mine[0]],
    )
    db.session.add(link)
    db.session.commit()
    login(client, learner)

    response = client.get("/portfolio/export.json")
    assert response.status_code == 200
    data = response.get_json()
    assert data["profile"]["email"] == "grace@example.org"
    assert {e["title"] for e in data["entries"]} == {e.title for e in mine}
    for record in data["entries"]:
        assert set(entry_columns()) <= set(record)
    first = next(e for e in data["entries"] if e["id"] == mine[0].id)
    assert first["evidence"][0]["filename"] == "certificate.pdf"
    assert first["themes"] == ["swe-4.7"]
    assert data["share_links"][0]["label"] == "For my appraisal"
    assert data["share_links"][0]["entry_ids"] == [mine[0].id]
    raw = response.get_data(as_text=True)
    for secret in (
        "Their secret entry",
        "their private reflection",
        "their.pdf",
        "someone.else@example.org",
        "f" * 64,
        learner.calendar_token,
        learner.password_hash,
    ):
        assert secret not in raw


def test_the_zip_holds_the_json_and_every_evidence_file(
    client, login, learner, make_entry, evidence_dir
):
    first = make_entry(learner, "First")
    second = make_entry(learner, "Second")
    add_evidence(learner, first, "certificate.pdf", b"%PDF-1.4 one", evidence_dir)
    add_evidence(learner, second, "certificate.pdf", b"%PDF-1.4 two", evidence_dir)
    add_evidence(learner, second, "../../etc/passwd", b"%PDF-1.4 three", evidence_dir)
    login(client, learner)

    response = client.get("/account/data.zip")
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {
        "data.json",
        "README.txt",
        "evidence/certificate.pdf",
        "evidence/certificate (2).pdf",
        "evidence/passwd",
    } == names
    contents = {archive.read(n) for n in names if n.startswith("evidence/")}
    assert contents == {b"%PDF-1.4 one", b"%PDF-1.4 two", b"%PDF-1.4 three"}
    data = json.loads(archive.read("data.json"))
    assert {e["title"] for e in data["entries"]} == {"First", "Second"}
    assert (
        "Everything the Relational Learning Academy holds about you"
        in archive.read("README.txt").decode()
    )


def test_a_missing_evidence_file_is_listed_not_fatal(
    client, login, learner, make_entry, evidence_dir
):
    entry = make_entry(learner, "First")
    evidence = add_evidence(learner, entry, "gone.pdf", b"%PDF", evidence_dir)
    (evidence_dir / evidence.stored_name).unlink()
    login(client, learner)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/account/data.zip").data))
    assert "MISSING gone.pdf" in archive.read("README.txt").decode()


def test_display_names_are_safe_and_distinct():
    assert display_names(["a.pdf", "A.pdf", "a.pdf", "..\\x\\b.png", "", "noext", "noext"]) == [
        "a.pdf",
        "A (2).pdf",
        "a (3).pdf",
        "b.png",
        "file",
        "noext",
        "noext (2)",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/portfolio/export",
        "/portfolio/export.pdf",
        "/portfolio/export.csv",
        "/portfolio/export.json",
        "/portfolio/clr.json",
        "/account/data.zip",
    ],
)
def test_exports_need_an_account(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_b_downloads_only_their_own_records(client, login, learner, make_user, make_entry):
    make_entry(learner, "Grace's entry")
    other = make_user()
    make_entry(other, "B's entry")
    login(client, other)
    for path in ("/portfolio/export.csv", "/portfolio/export.json", "/portfolio/export"):
        body = client.get(path).get_data(as_text=True)
        assert "B's entry" in body or path == "/portfolio/export"
        assert "Grace" not in body
    archive = zipfile.ZipFile(io.BytesIO(client.get("/account/data.zip").data))
    assert "Grace" not in archive.read("data.json").decode()


def _fill(learner, make_entry, make_course, count: int, evidence_dir):
    from academy.credentials import openbadges

    course = make_course()
    for n in range(count):
        entry = make_entry(
            learner,
            f"Entry {n}",
            verified=n % 2 == 0,
            course_id=course.id if n % 2 == 0 else None,
            provider_name="A provider",
        )
        add_evidence(learner, entry, f"file{n}.pdf", b"%PDF", evidence_dir)
        if entry.verified:
            openbadges.issue(learner, entry)
    db.session.commit()


@pytest.mark.parametrize(
    "path",
    [
        "/portfolio/export",
        "/portfolio/export.json",
        "/portfolio/export.csv",
        "/portfolio/export.pdf",
        "/account/data.zip",
        "/portfolio/clr.json",
    ],
)
def test_export_pages_run_a_fixed_number_of_queries(
    client, login, make_user, make_entry, make_course, count_queries, evidence_dir, path
):
    counts = []
    for size in (2, 12):
        learner = make_user()
        _fill(learner, make_entry, make_course, size, evidence_dir)
        login(client, learner)
        client.get(path)  # warm up anything cached per process
        with count_queries() as counter:
            assert client.get(path).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1]
