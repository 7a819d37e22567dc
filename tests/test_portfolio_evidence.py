"""Evidence files: accepted by content (PDF, PNG, JPEG), refused when empty, too large, renamed,
unreadable or carrying script; stored under random names, sent back safely, only to the owner."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import func, select

from academy.extensions import db
from academy.portfolio.entries import evidence as evidence_service
from academy.portfolio.models import EvidenceFile

MB = 1024 * 1024


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "orange").save(buffer, "JPEG")
    return buffer.getvalue()


def real_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def build_pdf(catalog_extra: str = "", objects: tuple[str, ...] = ()) -> bytes:
    """A small, well-formed PDF by hand (correct cross-reference table), with extra entries in
    its catalogue and extra objects from number 4."""
    bodies = [
        f"<< /Type /Catalog /Pages 2 0 R {catalog_extra} >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        *objects,
    ]
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(bodies) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(bodies) + 1} /Root 1 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return out


def multipart(fields: dict[str, str], data: bytes, filename: str) -> tuple[bytes, str]:
    """A ready-made form body: the test client would spool a large file to a temporary file it
    never closes (a ResourceWarning, an error here)."""
    boundary = "portfolioboundary"
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(client, csrf, entry, data: bytes, filename: str = "evidence.pdf"):
    body, content_type = multipart({"csrf_token": csrf(client)}, data, filename)
    return client.post(
        f"/portfolio/entries/{entry.id}/evidence", data=body, content_type=content_type
    )


def stored_files(app) -> list[Path]:
    folder = Path(app.config["EVIDENCE_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


def evidence_count() -> int:
    return db.session.scalar(select(func.count(EvidenceFile.id)))


@pytest.fixture
def learner(client, taxonomy, make_user, login):
    user = make_user()
    login(client, user)
    return user


@pytest.fixture
def entry(learner, make_entry):
    return make_entry(learner, "Safeguarding refresher")


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "shown_as"),
    [
        (real_pdf(), "certificate.pdf", "application/pdf", "certificate.pdf"),
        (png_bytes(), "flipchart.png", "image/png", "flipchart.png"),
        (jpeg_bytes(), "photo.JPG", "image/jpeg", "photo.JPG"),
        # the name says nothing; the content decides, and the name gains a matching ending
        (png_bytes(), "notes.pdf", "image/png", "notes.pdf.png"),
    ],
)
def test_a_real_pdf_png_or_jpeg_is_stored_under_a_random_name(
    app, client, csrf, entry, data, filename, content_type, shown_as
):
    response = upload(client, csrf, entry, data, filename)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/portfolio/entries/{entry.id}#evidence")
    item = db.session.scalars(select(EvidenceFile)).one()
    assert item.content_type == content_type and item.filename == shown_as
    assert item.size == len(data) and len(item.sha256) == 64
    assert item.user_id == entry.user_id
    [path] = stored_files(app)
    assert path.name == item.stored_name and len(path.name) == 32 and "." not in path.name
    assert path.read_bytes() == data
    assert path.stat().st_mode & 0o077 == 0  # only the application may read it
    page = client.get(f"/portfolio/entries/{entry.id}").get_data(as_text=True)
    assert shown_as in page and f"/portfolio/evidence/{item.id}" in page


def test_the_download_is_an_attachment_with_the_stored_type_and_nosniff(client, csrf, entry):
    upload(client, csrf, entry, png_bytes(), "flipchart.png")
    item = db.session.scalars(select(EvidenceFile)).one()
    response = client.get(f"/portfolio/evidence/{item.id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "flipchart.png" in response.headers["Content-Disposition"]
    assert response.get_data() == png_bytes()
    response.close()
    # the type comes from the database row, not from the file or its name
    item.content_type = "image/jpeg"
    db.session.commit()
    response = client.get(f"/portfolio/evidence/{item.id}")
    assert response.headers["Content-Type"] == "image/jpeg"
    response.close()


# --- refused ----------------------------------------------------------------------------------


def assert_refused(app, response, message: str) -> None:
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "Nothing was saved." in page
    assert "There is a problem" in page and 'href="#file"' in page
    assert evidence_count() == 0
    assert stored_files(app) == []


def test_a_file_over_ten_megabytes_is_refused(app, client, csrf, entry):
    response = upload(client, csrf, entry, b"%PDF-1.7\n" + b"0" * (11 * MB), "big.pdf")
    assert_refused(app, response, "The file is too large: upload at most 10 MB.")


def test_a_file_of_exactly_the_limit_is_judged_on_its_content(app, client, csrf, entry):
    app.config["EVIDENCE_MAX_BYTES"] = len(real_pdf())
    assert upload(client, csrf, entry, real_pdf()).status_code == 303
    app.config["EVIDENCE_MAX_BYTES"] = len(real_pdf()) - 1
    response = upload(client, csrf, entry, real_pdf())
    assert response.status_code == 422 and "too large" in response.get_data(as_text=True)


def test_a_request_over_the_site_limit_gets_a_clear_too_large_page(app, client, csrf, entry):
    response = upload(client, csrf, entry, b"%PDF-" + b"0" * (17 * MB), "huge.pdf")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "The file is too large: upload at most 10 MB." in page
    assert "Safeguarding refresher" in page  # shown on the entry's own page
    assert evidence_count() == 0 and stored_files(app) == []


def test_a_zero_byte_file_is_refused(app, client, csrf, entry):
    assert_refused(app, upload(client, csrf, entry, b"", "empty.pdf"), "The file is empty.")


def test_no_file_at_all_is_refused(app, client, csrf, entry):
    response = client.post(
        f"/portfolio/entries/{entry.id}/evidence", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 422
    assert "Choose a file to upload." in response.get_data(as_text=True)


def test_an_html_file_renamed_pdf_is_refused(app, client, csrf, entry):
    html = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    response = upload(client, csrf, entry, html, "certificate.pdf")
    assert_refused(app, response, "The file must be a PDF, PNG or JPEG.")


def test_html_behind_a_pdf_header_is_refused_because_it_does_not_parse(app, client, csrf, entry):
    response = upload(client, csrf, entry, b"%PDF-1.4\n<html><script>x()</script>", "a.pdf")
    assert_refused(app, response, "not one we can read")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            build_pdf("/OpenAction 4 0 R", ("<< /S /JavaScript /JS (app.alert(1)) >>",)),
            id="open-action-javascript",
        ),
        pytest.param(
            build_pdf("/Names << /JavaScript << /Names [(a) 4 0 R] >> >>", ("<< /JS (x) >>",)),
            id="document-javascript",
        ),
        pytest.param(
            # the same names written with #-escapes: only parsing finds them
            build_pdf("/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>"),
            id="escaped-names",
        ),
        pytest.param(build_pdf("/OpenAction << /S /Launch /F (calc.exe) >>"), id="launch"),
        pytest.param(build_pdf("/AA << /WC << /S /Named /N /Print >> >>"), id="additional-actions"),
        pytest.param(
            build_pdf(
                "/Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >>",
                (
                    "<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>",
                    "<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
                ),
            ),
            id="embedded-file",
        ),
    ],
)
def test_a_pdf_carrying_script_actions_or_files_is_refused(app, client, csrf, entry, data):
    response = upload(client, csrf, entry, data, "innocent.pdf")
    assert_refused(app, response, "The PDF contains script")


def test_a_pdf_with_more_parts_than_we_check_is_refused(app, client, csrf, entry, monkeypatch):
    monkeypatch.setattr(evidence_service, "MAX_PDF_OBJECTS", 3)
    assert upload(client, csrf, entry, build_pdf()).status_code == 303  # three objects
    monkeypatch.setattr(evidence_service, "MAX_PDF_OBJECTS", 2)
    response = upload(client, csrf, entry, build_pdf())
    assert response.status_code == 422
    assert "too many parts" in response.get_data(as_text=True)


def test_a_pdf_without_pages_is_refused(app, client, csrf, entry):
    data = build_pdf().replace(b"/Pages 2 0 R", b"/Nopes 2 0 R")
    assert_refused(app, upload(client, csrf, entry, data), "not one we can read")


def test_a_pdf_with_a_plain_opening_view_is_accepted(client, csrf, entry):
    assert upload(client, csrf, entry, build_pdf("/OpenAction [3 0 R /Fit]")).status_code == 303


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "does not open as one"),
        (b"\xff\xd8\xff\xe0" + b"junk" * 50, "does not open as one"),
        (png_bytes()[:40], "does not open as one"),
        (real_pdf()[:60], "not one we can read"),
        (b"GIF89a" + b"\x00" * 50, "The file must be a PDF, PNG or JPEG."),
        (b"PK\x03\x04" + b"\x00" * 50, "The file must be a PDF, PNG or JPEG."),
    ],
)
def test_damaged_or_other_files_are_refused(app, client, csrf, entry, data, message):
    assert_refused(app, upload(client, csrf, entry, data, "file.png"), message)


def test_an_entry_holds_at_most_ten_files(app, client, csrf, entry):
    for number in range(10):
        assert upload(client, csrf, entry, png_bytes(), f"{number}.png").status_code == 303
    page = client.get(f"/portfolio/entries/{entry.id}").get_data(as_text=True)
    assert "the most it can have" in page
    response = upload(client, csrf, entry, png_bytes(), "eleventh.png")
    assert response.status_code == 422
    assert "at most 10 files" in response.get_data(as_text=True)
    assert evidence_count() == 10 and len(stored_files(app)) == 10


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\sam\\My notes.pdf", "My notes.pdf"),
        ("re\x00port\x07<b>.pdf", "reportb.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("", "evidence.pdf"),
        ("page.html", "page.html.pdf"),
        ("caf\udce9.pdf", "caf.pdf"),
        ("a" * 500 + ".pdf", "a" * 196 + ".pdf"),
    ],
)
def test_file_names_are_cleaned_for_display(raw, cleaned):
    name = evidence_service.clean_filename(raw, "application/pdf")
    assert name == cleaned and len(name) <= 200


def test_a_long_name_is_shortened_on_upload(client, csrf, entry):
    assert upload(client, csrf, entry, real_pdf(), "n" * 300 + ".pdf").status_code == 303
    item = db.session.scalars(select(EvidenceFile)).one()
    assert len(item.filename) == 200 and item.filename.endswith(".pdf")


def test_when_the_commit_fails_the_file_is_removed(app, client, csrf, entry, monkeypatch):
    def fail():
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "commit", fail)
    with pytest.raises(RuntimeError):
        upload(client, csrf, entry, png_bytes(), "a.png")
    monkeypatch.undo()
    assert stored_files(app) == []
    db.session.rollback()
    assert evidence_count() == 0


# --- deleting and who may reach what ----------------------------------------------------------


def test_deleting_a_file_asks_first_then_removes_the_row_and_the_file(app, client, csrf, entry):
    upload(client, csrf, entry, png_bytes(), "flipchart.png")
    item = db.session.scalars(select(EvidenceFile)).one()
    page = client.get(f"/portfolio/evidence/{item.id}/delete").get_data(as_text=True)
    assert "Delete “flipchart.png”?" in page and "cannot be undone" in page
    assert evidence_count() == 1
    response = client.post(
        f"/portfolio/evidence/{item.id}/delete", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 303
    assert evidence_count() == 0 and stored_files(app) == []


def test_files_can_be_added_to_a_verified_entry(client, csrf, learner, make_entry):
    verified = make_entry(learner, "Verified course", verified=True)
    assert upload(client, csrf, verified, real_pdf()).status_code == 303


def test_learner_b_cannot_reach_a_s_files(app, client, csrf, make_user, login, entry):
    upload(client, csrf, entry, png_bytes(), "a.png")
    item = db.session.scalars(select(EvidenceFile)).one()
    login(client, make_user())
    assert client.get(f"/portfolio/evidence/{item.id}").status_code == 404
    assert client.get(f"/portfolio/evidence/{item.id}/delete").status_code == 404
    response = client.post(
        f"/portfolio/evidence/{item.id}/delete", data={"csrf_token": csrf(client)}
    )
    assert response.status_code == 404
    assert upload(client, csrf, entry, png_bytes(), "b.png").status_code == 404
    response = upload(client, csrf, entry, b"%PDF-" + b"0" * (17 * MB), "huge.pdf")
    assert response.status_code == 413
    assert "Safeguarding refresher" not in response.get_data(as_text=True)
    assert evidence_count() == 1 and len(stored_files(app)) == 1


def test_a_file_missing_from_disk_is_not_found_not_an_error(app, client, csrf, entry):
    upload(client, csrf, entry, png_bytes(), "a.png")
    item = db.session.scalars(select(EvidenceFile)).one()
    for path in stored_files(app):
        path.unlink()
    assert client.get(f"/portfolio/evidence/{item.id}").status_code == 404
