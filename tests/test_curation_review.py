"""The curator's review page reads as words: names, the cost as the public page writes it, hours,
yes and no, long text with its line breaks, and a change diff that marks the words changed."""

from __future__ import annotations

import re

from academy.curation import services
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers import courses as course_services
from academy.providers.review import Piece, rows_between, word_changes

DESCRIPTION = "Three days for all frontline staff.\n\nDay two is <b>co-delivered</b>.\nBring lunch."


def review_table(page: str) -> str:
    return page[page.index('<table class="review-table">') : page.index("</table>")]


def cell_texts(table: str, field: str) -> list[str]:
    """The cells of one row, tags removed (so marked words read as plain text)."""
    row = re.search(rf'<tr id="field-{field}">(.*?)</tr>', table, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def listing(make_course, make_provider, taxonomy):
    required = make_course("Understanding trauma", slug="understanding-trauma-slug")
    course = make_course(
        "KUF Awareness",
        provider=make_provider("Provider X", verified_at=utcnow()),
        status="submitted",
        step=1,
        sectors=("housing-homelessness", "criminal-justice"),
        principles=("belonging-connection",),
        delivery_mode="online-live",
        region="south-west",
        description=DESCRIPTION,
        duration_hours=21.0,
        cpd_hours=7.5,
        cost_type="fee",
        fee_pence=45050,
        lived_experience_codelivery=True,
    )
    course.prerequisites = [required]
    db.session.commit()
    return course, required


def test_a_first_review_shows_names_and_words_not_stored_values(
    client, taxonomy, make_provider, make_course, make_user, login
):
    course, required = listing(make_course, make_provider, taxonomy)
    login(client, make_user(curator=True))
    page = client.get(f"/curation/courses/{course.id}").get_data(as_text=True)
    table = review_table(page)
    assert ">Waiting for review</span>" in page and "Status: submitted" not in page
    for field, shown in {
        "step": "Awareness",
        "delivery_mode": "Online (live)",
        "region": "South West",
        "sectors": "Criminal justice (prison and probation), Housing and homelessness",
        "professions": "Open to all",
        "principles": "Belonging and connection",
        "prerequisites": "Understanding trauma",
        "duration_hours": "21 hours",
        "cpd_hours": "7.5 hours",
        "cost_type": "£450.50",
        "lived_experience_codelivery": "Yes",
        "summary": "Not given",
    }.items():
        assert cell_texts(table, field) == [shown], field
    for stored in ("online-live", "south-west", "housing-homelessness", "belonging-connection",
                   "understanding-trauma-slug", "45050", "True", "21.0", ">fee<"):  # fmt: skip
        assert stored not in table, stored
    assert f">{required.id}<" not in table
    assert 'id="field-fee_pence"' not in table  # the fee is part of the cost
    # the description keeps its line breaks, in a cell that shows them, and is escaped
    assert (
        '<td class="long-text">Three days for all frontline staff.\n\nDay two is'
        " &lt;b&gt;co-delivered&lt;/b&gt;.\nBring lunch.</td>" in table
    )


def test_the_change_diff_names_what_changed_and_marks_the_words(
    client, taxonomy, make_provider, make_course, make_user, login
):
    course, _ = listing(make_course, make_provider, taxonomy)
    curator = make_user(name="Cara Curator", curator=True)
    staff = make_user(staff_of=course.provider)
    services.approve(curator, course)
    db.session.commit()
    values = {name: getattr(course, name) for name in course_services.EDITABLE}
    values.update(
        description=DESCRIPTION.replace("Bring lunch.", "Lunch is provided."),
        step=taxonomy["steps"]["practitioner"],
        delivery_mode=None,
        sectors=[],
        prerequisites=[],
        cost_type="funded",
        fee_pence=None,
    )
    course_services.update_course(staff, course, values)
    db.session.commit()
    login(client, curator)
    page = client.get(f"/curation/courses/{course.id}").get_data(as_text=True)
    table = review_table(page)
    assert "What the edit changes on the live course" in page and "by Cara Curator" in page
    assert cell_texts(table, "step") == ["Awareness", "Practitioner"]
    assert cell_texts(table, "delivery_mode") == ["Online (live)", "Not given"]
    assert cell_texts(table, "sectors") == [
        "Criminal justice (prison and probation), Housing and homelessness",
        "Open to all",
    ]
    assert cell_texts(table, "prerequisites") == ["Understanding trauma", "None"]
    assert cell_texts(table, "cost_type") == ["£450.50", "Funded"]
    # only the changed fields, one row for the cost
    assert re.findall(r'<tr id="field-(\w+)">', table) == [
        "description", "step", "delivery_mode", "sectors", "prerequisites", "cost_type",
    ]  # fmt: skip
    # the unchanged text stays plain; only the changed words are marked, and escaped
    assert '<del><span class="visually-hidden">removed: </span>Bring lunch.</del>' in table
    assert '<ins><span class="visually-hidden">added: </span>Lunch is provided.</ins>' in table
    assert "Day two is &lt;b&gt;co-delivered&lt;/b&gt;.\n" in table
    assert table.count("<del>") == 1 and table.count("<ins>") == 1


def test_a_changed_fee_is_one_cost_row_in_pounds():
    before = {"cost_type": "fee", "fee_pence": 45000, "title": "KUF"}
    after = {"cost_type": "fee", "fee_pence": 125050, "title": "KUF"}
    (row,) = rows_between(before, after)
    assert (row.label, row.before, row.now) == ("Cost", (Piece("£450"),), (Piece("£1,250.50"),))


def test_word_changes_give_back_each_text_and_mark_only_what_changed():
    before = "Day one: listening.\n\nDay two: the team\nmeets for  reflection."
    after = "Day one: listening.\n\nDay two: the whole team\nmeets for  reflection.\nDay three."
    old, new = word_changes(before, after)
    assert "".join(p.text for p in old) == before and "".join(p.text for p in new) == after
    assert [p.text.strip() for p in old if p.changed] == []
    assert [p.text.strip() for p in new if p.changed] == ["whole", "Day three."]


def test_a_passage_too_long_to_compare_word_by_word_is_marked_whole():
    before = " ".join(f"w{n}" for n in range(1000))
    after = " ".join(f"v{n}" for n in range(1000))
    old, new = word_changes(before, after)
    assert old == (Piece(before, True),) and new == (Piece(after, True),)
