"""The import survives a real, messy catalogue: ``../shared/data/edx_courses.csv``.

The file is read where it lies (it has no licence: never copy it into the project) and mapped to
the template in a temporary file.
"""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pytest
from slugify import slugify
from sqlalchemy import func, select

from academy.catalogue.models import Course
from academy.extensions import db
from academy.imports.course_csv import import_course_csv

LEVEL_STEPS = {"Introductory": "0", "Intermediate": "2", "Advanced": "3"}
INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\x00]")


def edx_reference(row: dict[str, str]) -> str:
    """A stable reference from title and institution: readable, unique, at most 80 characters."""
    text = f"{row['title']} {row['institution']}"
    digest = hashlib.sha1(text.encode()).hexdigest()[:8]
    return f"{slugify(text, max_length=60, word_boundary=True)}-{digest}"


@pytest.fixture
def edx(shared_data: Path, tmp_path: Path) -> tuple[list[dict[str, str]], bytes]:
    """The source rows and the same catalogue written in the template."""
    with (shared_data / "edx_courses.csv").open(encoding="utf-8", newline="") as handle:
        source = list(csv.DictReader(handle))
    path = tmp_path / "edx-template.csv"
    columns = ["reference", "title", "summary", "description", "step", "url", "cost", "status"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for row in source:
            writer.writerow(
                {
                    "reference": edx_reference(row),
                    "title": row["title"],
                    "summary": "" if row["summary"] == "NA" else row["summary"],
                    "description": row["course_description"],
                    "step": LEVEL_STEPS.get(row["Level"], "1"),
                    "url": row["course_url"],
                    # Every price in this file is "FREE-Add a Verified Certificate for $…". The
                    # template has no "unknown"; an empty cost would read as free, so a priced
                    # course would need a human decision and is left as "funded" to stand out.
                    "cost": "free" if row["price"].upper().startswith("FREE") else "funded",
                    "status": "published",
                }
            )
    return source, path.read_bytes()


def test_edx_catalogue_imports_and_reimports_unchanged(taxonomy, make_provider, edx):
    source, data = edx
    provider = make_provider(name="edX", slug="edx")
    ids = [row["id"] for row in source]
    # The data as documented: 975 rows, one exact duplicate pair, zero-width spaces present.
    assert len(source) == 975
    first, second = source[ids.index("edx-0060")], source[ids.index("edx-0096")]
    assert {k: v for k, v in first.items() if k != "id"} == {
        k: v for k, v in second.items() if k != "id"
    }
    assert any("\u200b" in value for row in source for value in row.values())
    assert len({edx_reference(row) for row in source}) == 974

    report = import_course_csv(data, provider)

    assert report.ok and report.applied, [str(p) for p in report.problems[:5]]
    assert (report.new, report.changed, report.unchanged, report.duplicates) == (974, 0, 0, 1)
    row_of_0060, row_of_0096 = ids.index("edx-0060") + 2, ids.index("edx-0096") + 2
    assert [(n.row, n.column) for n in report.notices] == [(row_of_0096, None)]
    assert f"repeats row {row_of_0060} exactly" in report.notices[0].message
    db.session.commit()

    courses = db.session.scalars(select(Course).where(Course.provider_id == provider.id)).all()
    assert len(courses) == 974
    titles = {course.title for course in courses}
    assert "Inglés básico: conversacional y networking" in titles
    assert "Programación para todos (empezando con Python)" in titles
    assert "生活英语听说 | Conversational English Skills" in titles
    assert "Japanese Culture and Language (I) |日语与日本文化（1）" in titles
    for course in courses:
        for text in (course.title, course.summary, course.description, course.reference):
            assert not INVISIBLE.search(text), (course.reference, text[:80])
    # an import never publishes: the 974 courses wait for the curators
    assert all(course.status == "submitted" and course.review_requested_at for course in courses)
    assert {course.step.slug for course in courses} == {"introductory", "practitioner", "advanced"}
    assert len({course.slug for course in courses}) == 974

    again = import_course_csv(data, provider)
    assert (again.new, again.changed, again.unchanged, again.duplicates) == (0, 0, 974, 1)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Course)) == 974


def test_edx_catalogue_is_searchable_and_its_duplicate_appears_once(
    client, taxonomy, make_provider, make_user, edx, indexed
):
    from academy.curation.services import QueueFilter, bulk_decide
    from academy.db_types import utcnow

    source, data = edx
    provider = make_provider(name="edX", slug="edx", verified_at=utcnow())
    assert import_course_csv(data, provider).ok
    db.session.commit()
    # the curators approve the whole import as one action
    curator = make_user(curator=True)
    result = bulk_decide(curator, "approve", None, QueueFilter(provider_id=provider.id))
    assert result.done == 974
    db.session.commit()  # the inline search sync applies the queued entries here
    duplicated = next(row for row in source if row["id"] == "edx-0060")["title"]
    found = client.get("/api/v1/courses", query_string={"q": duplicated, "per_page": 50})
    titles = [r["title"] for r in found.get_json()["results"]]
    assert titles[0] == duplicated  # the exact title ranks first
    assert titles.count(duplicated) == 1  # two identical rows, one course
    html = client.get("/courses", query_string={"q": duplicated}).get_data(as_text=True)
    cards = re.findall(r'<h3 class="card-title"><a href="[^"]+">(.*?)</a></h3>', html)
    assert [re.sub(r"<[^>]+>", "", card) for card in cards].count(duplicated) == 1
    spanish = client.get("/api/v1/courses", query_string={"q": "ingles basico conversacional"})
    assert "Inglés básico: conversacional y networking" in [
        r["title"] for r in spanish.get_json()["results"]
    ]
    chinese = client.get("/api/v1/courses", query_string={"q": "生活英语听说"}).get_json()
    assert chinese["total"] >= 1
