"""Import as a provider expects, with the same rules on the command line and the web screen:
named outcomes, a published course's changes waiting for review, archived courses never changed,
the status column honoured or refused, an encoding guess shown first, only the good rows."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from academy.catalogue.models import Course
from academy.db_types import utcnow
from academy.extensions import db
from academy.imports.course_csv import import_course_csv
from tests.test_provider_import import confirm, upload

HEADER = "reference,title,step,summary,status\n"


def csv_of(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


@pytest.fixture
def provider(make_provider, taxonomy):
    return make_provider("Hill Trust", slug="hill", verified_at=utcnow())


def test_a_published_courses_changes_wait_for_review_and_are_named(provider, make_course):
    live = make_course("Live course", provider=provider, reference="LIVE", summary="Approved.")
    report = import_course_csv(csv_of("LIVE,Live course,1,Unreviewed words.,"), provider)
    db.session.commit()
    assert report.applied and report.changed == 1
    [outcome] = report.named("changed")
    assert outcome.fields == ("summary",) and outcome.waits
    assert "Row 2: Live course (LIVE): summary (waits for a curator" in str(outcome)
    db.session.refresh(live)
    assert live.summary == "Approved." and live.state == "edit_pending"
    # the same file again: nothing more changes
    again = import_course_csv(csv_of("LIVE,Live course,1,Unreviewed words.,"), provider)
    assert (again.changed, again.unchanged) == (0, 1)


def test_an_archived_course_is_never_changed_and_its_row_says_why(
    runner, provider, make_course, tmp_path
):
    old = make_course("Old course", provider=provider, reference="OLD", status="archived")
    path = tmp_path / "courses.csv"
    path.write_bytes(csv_of("OLD,Old course renamed,1,,", "NEW,New course,1,,"))
    result = runner.invoke(args=["courses", "import", str(path), "--provider", "hill"])
    assert result.exit_code == 0, result.output
    assert "1 new, 0 changed, 0 unchanged, 1 skipped" in result.output
    assert "Skipped:\n  Row 2: Old course renamed (OLD): the course is archived" in result.output
    assert "New:\n  Row 3: New course (NEW)" in result.output
    db.session.refresh(old)
    assert old.title == "Old course" and old.status == "archived"


@pytest.mark.parametrize(
    ("existing", "cell", "message"),
    [
        (None, "rejected", "an import cannot set it"),
        (None, "archived", "a new course cannot be archived"),
        ("published", "draft", "cannot take it back to draft"),
        (None, "live", '"live" is not a status'),
    ],
)
def test_a_status_that_cannot_be_honoured_is_refused(
    provider, make_course, existing, cell, message
):
    if existing:
        make_course("Course", provider=provider, reference="A", status=existing)
    report = import_course_csv(csv_of(f"A,Course,1,,{cell}"), provider)
    assert not report.applied
    assert [p.column for p in report.problems] == ["status"]
    assert message in report.problems[0].message
    assert db.session.scalar(select(func.count(Course.id))) == (1 if existing else 0)


@pytest.mark.parametrize(
    ("existing", "cell", "status"),
    [
        (None, "", "draft"),
        (None, "draft", "draft"),
        (None, "published", "submitted"),
        ("draft", "submitted", "submitted"),
        ("submitted", "draft", "draft"),
        ("published", "archived", "archived"),
        ("published", "published", "published"),
    ],
)
def test_the_status_column_is_honoured_as_documented(provider, make_course, existing, cell, status):
    if existing:
        make_course("Course", provider=provider, reference="A", status=existing)
    report = import_course_csv(csv_of(f"A,Course,1,,{cell}"), provider)
    db.session.commit()
    assert report.applied and report.ok
    course = db.session.scalar(select(Course))
    assert course.status == status
    assert (course.review_requested_at is not None) == (status == "submitted")
    assert course.published_at is None or existing == "published"


def test_the_web_screen_shows_guessed_cells_before_writing(
    client, provider, make_user, login, csrf
):
    login(client, make_user(staff_of=provider))
    data = "reference,title,step\nA,Café crème,1\nB,Plain,1\n".encode("cp1252")
    response = upload(client, csrf, provider, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Cells read as Windows-1252" in page and "Café crème" in page
    assert "preview" not in page.lower()
    assert db.session.scalar(select(func.count(Course.id))) == 0
    assert confirm(client, csrf, provider, page).status_code == 303
    assert db.session.scalar(select(Course.title).where(Course.reference == "A")) == "Café crème"


def test_the_web_screen_can_import_only_the_good_rows(client, provider, make_user, login, csrf):
    login(client, make_user(staff_of=provider))
    data = csv_of("A,Good one,1,,", "B,Bad one,9,,", "C,Good two,2,,")
    refused = upload(client, csrf, provider, data)
    assert refused.status_code == 422 and 'name="token"' not in refused.get_data(as_text=True)
    body = (
        (
            '--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f'{csrf(client)}\r\n--b\r\nContent-Disposition: form-data; name="skip_bad_rows"\r\n\r\n'
            'y\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + b"\r\n--b--\r\n"
    )
    response = client.post(
        "/provider/hill/import", data=body, content_type="multipart/form-data; boundary=b"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "these rows are left out" in page and "Row 2: Good one" in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    done = client.post(
        "/provider/hill/import/confirm",
        data={"csrf_token": csrf(client), "token": token, "skip_bad_rows": "yes"},
    )
    assert done.status_code == 303
    assert sorted(db.session.scalars(select(Course.reference))) == ["A", "C"]


def test_the_organisation_screen_links_to_the_import(client, provider, make_user, login):
    login(client, make_user(staff_of=provider))
    page = client.get("/provider/hill").get_data(as_text=True)
    assert 'href="/provider/hill/import"' in page
