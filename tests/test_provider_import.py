"""Bulk import from the provider screens: report first, confirm, all or nothing, idempotent,
Windows-1252, files that are not CSV, and the review queue."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from academy import PROJECT_ROOT
from academy.audit import AuditEntry
from academy.catalogue.models import Course
from academy.extensions import db

TEMPLATE = (PROJECT_ROOT / "docs" / "import-template.csv").read_bytes()
HEADER = "reference,title,step,summary,cost,status\n"


def multipart(client, csrf, data: bytes, name: str) -> tuple[bytes, str]:
    """A ready-made form body: the test client would spool a large file form to a temporary
    file that it never closes (a ResourceWarning, an error here)."""
    boundary = "academyboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{csrf(client)}\r\n--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def upload(client, csrf, provider, data: bytes, name="courses.csv"):
    body, content_type = multipart(client, csrf, data, name)
    return client.post(f"/provider/{provider.slug}/import", data=body, content_type=content_type)


def confirm(client, csrf, provider, page: str):
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    return client.post(
        f"/provider/{provider.slug}/import/confirm",
        data={"csrf_token": csrf(client), "token": token},
    )


def course_count() -> int:
    return db.session.scalar(select(func.count(Course.id)))


def rows(count: int, bad: set[int] = frozenset()) -> bytes:
    lines = [HEADER]
    for n in range(1, count + 1):
        step = "9" if n in bad else str(n % 5)
        lines.append(f"REF-{n:05d},Course number {n},{step},A short summary {n},free,published\n")
    return "".join(lines).encode()


def test_the_report_comes_first_and_confirming_imports_for_review(
    client, taxonomy, make_provider, make_user, login, csrf
):
    provider = make_provider()
    login(client, make_user(staff_of=provider))
    response = upload(client, csrf, provider, rows(3))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and course_count() == 0
    assert re.search(r"<strong>3</strong> new", page)
    assert confirm(client, csrf, provider, page).status_code == 303
    courses = db.session.scalars(select(Course)).all()
    # "published" asks for publication: the courses wait for a curator, none is public yet
    assert len(courses) == 3 and {c.status for c in courses} == {"submitted"}
    assert all(c.review_requested_at is not None for c in courses)
    assert db.session.scalar(select(AuditEntry.action)) == "import.applied"
    # the same file again: everything unchanged, nothing to confirm
    again = upload(client, csrf, provider, rows(3)).get_data(as_text=True)
    assert re.search(
        r"<strong>0</strong> new, <strong>0</strong> changed, <strong>3</strong>", again
    )


def test_ten_thousand_rows_with_three_bad_import_nothing_then_fixed_import_all_then_unchanged(
    client, taxonomy, make_provider, make_user, login, csrf
):
    provider = make_provider()
    login(client, make_user(staff_of=provider))
    response = upload(client, csrf, provider, rows(10_000, bad={7, 1900, 9333}))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "3 problems: nothing was imported" in page
    for row in (8, 1901, 9334):  # the header is row 1
        assert f"<td>{row}</td><td>step</td>" in page
    assert 'name="token"' not in page and course_count() == 0
    fixed = upload(client, csrf, provider, rows(10_000)).get_data(as_text=True)
    assert re.search(r"<strong>10000</strong> new", fixed)
    confirm(client, csrf, provider, fixed)
    assert course_count() == 10_000
    again = upload(client, csrf, provider, rows(10_000)).get_data(as_text=True)
    assert re.search(
        r"<strong>0</strong> new, <strong>0</strong> changed, <strong>10000</strong>", again
    )
    assert 'name="token"' not in again  # nothing to import


def test_a_windows_1252_file_with_curly_quotes_and_a_pound_sign(
    client, taxonomy, make_provider, make_user, login, csrf
):
    provider = make_provider()
    login(client, make_user(staff_of=provider))
    text = (
        HEADER + "W-1,\u201cRelational\u201d practice \u2013 caf\u00e9,1,Costs \u00a345,\u00a345,\n"
    )
    page = upload(client, csrf, provider, text.encode("cp1252")).get_data(as_text=True)
    assert "read as Windows-1252" in page
    confirm(client, csrf, provider, page)
    course = db.session.scalar(select(Course))
    assert course.title == "\u201cRelational\u201d practice \u2013 caf\u00e9"
    assert course.summary == "Costs \u00a345" and course.fee_pence == 4500


def test_files_that_are_not_csv_get_a_clear_message(
    client, app, taxonomy, make_provider, make_user, login, csrf
):
    provider = make_provider()
    login(client, make_user(staff_of=provider))
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    for data, expected in (
        (png, "not a CSV file"),
        (b"", "empty"),
        (TEMPLATE[:40] + b"\x81\x8d" * 50, "not UTF-8"),
    ):
        response = upload(client, csrf, provider, data)
        assert response.status_code == 422, expected
        assert expected in response.get_data(as_text=True)
    response = upload(client, csrf, provider, b"\xff\x81" * (25 * 1024 * 1024), "junk.csv")
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
    assert course_count() == 0


def test_a_confirmation_token_of_another_provider_imports_nothing(
    client, app, taxonomy, make_provider, make_user, login, csrf
):
    mine, theirs = make_provider(), make_provider()
    staff_theirs = app.test_client()
    login(staff_theirs, make_user(staff_of=theirs))
    page = upload(staff_theirs, csrf, theirs, rows(2)).get_data(as_text=True)
    login(client, make_user(staff_of=mine))
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    client.post(
        f"/provider/{mine.slug}/import/confirm", data={"csrf_token": csrf(client), "token": token}
    )
    assert course_count() == 0


def test_ten_thousand_rows_check_and_import_through_the_web(
    client, taxonomy, make_provider, make_user, login, csrf
):
    """Correctness at full size; the speed is measured by ``make bench-import``."""
    provider = make_provider()
    login(client, make_user(staff_of=provider))
    page = upload(client, csrf, provider, rows(10_000)).get_data(as_text=True)
    assert "<strong>10000</strong> new" in page
    confirm(client, csrf, provider, page)
    assert course_count() == 10_000
