"""The review queue at scale: paged, filtered, counted, oldest first, with bulk decisions that
need a confirmation and one reason; a fixed number of queries with 10,000 courses waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from academy.audit import AuditEntry
from academy.catalogue.models import Course
from academy.curation import services as curation
from academy.db_types import utcnow
from academy.extensions import db
from academy.mail.models import OutboxMessage


def bulk_submitted(provider, step, number: int, *, prefix: str, days_ago: float = 0) -> None:
    """``number`` submitted courses in one INSERT (the ORM one by one would be slow)."""
    now = utcnow() - timedelta(days=days_ago)
    rows = [
        {
            "slug": f"{prefix}-{i}",
            "provider_id": provider.id,
            "reference": f"{prefix}-{i}",
            "title": f"{prefix} course {i}",
            "summary": "",
            "description": "",
            "who_its_for": "",
            "entry_requirements": "",
            "where_next": "",
            "step_id": step.id,
            "cost_type": "free",
            "lived_experience_codelivery": False,
            "status": "submitted",
            "created_at": now,
            "updated_at": now,
            "review_requested_at": now + timedelta(seconds=i),
            "rejection_reason": "",
        }
        for i in range(number)
    ]
    db.session.execute(insert(Course.__table__), rows)
    db.session.commit()


@pytest.fixture
def big_queue(taxonomy, make_provider):
    step = next(iter(taxonomy["steps"].values()))
    old = make_provider("Old Trust", verified_at=utcnow())
    edx = make_provider("edX", verified_at=utcnow())
    bulk_submitted(old, step, 25, prefix="old", days_ago=40)
    bulk_submitted(edx, step, 975, prefix="edx", days_ago=2)
    bulk_submitted(make_provider("Many"), step, 9000, prefix="many")
    return old, edx


def test_ten_thousand_waiting_cost_a_fixed_number_of_queries(
    client, big_queue, make_user, login, count_queries
):
    old, edx = big_queue
    login(client, make_user(curator=True))
    with count_queries() as first:
        page = client.get("/curation")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "10000 matching" in text and "page 1 of 200" in text
    # oldest first: the 25 old ones, then 25 of edX's, none of the newest
    assert text.index(">old course 24<") < text.index(">edx course 0<")
    assert ">edx course 24<" in text and ">edx course 25<" not in text and "many course" not in text
    with count_queries() as later:
        client.get("/curation?page=150&kind=new")
    assert first.count == later.count <= 12


def test_filters_and_counts(client, big_queue, make_user, login):
    old, edx = big_queue
    login(client, make_user(curator=True))
    text = client.get(f"/curation?provider={edx.id}").get_data(as_text=True)
    assert "975 matching" in text and "old course" not in text
    # the pages of a filtered queue keep its filter
    assert f'rel="next" href="/curation?provider={edx.id}&amp;page=2"' in text
    text = client.get("/curation?age=30").get_data(as_text=True)
    assert "25 matching" in text
    text = client.get("/curation?kind=edit").get_data(as_text=True)
    assert "0 matching" in text
    assert curation.queue_counts() == {"new": 10000, "edit": 0, "resubmission": 0}


def test_confirming_a_bulk_action_on_all_ten_thousand_is_a_few_queries(
    client, big_queue, make_user, login, csrf, count_queries
):
    login(client, make_user(curator=True))
    token = csrf(client)
    with count_queries() as counter:
        page = client.post(
            "/curation/bulk", data={"csrf_token": token, "action": "approve", "scope": "all"}
        )
    assert page.status_code == 200 and "Approve 10000 courses?" in page.get_data(as_text=True)
    assert counter.count <= 10
    assert db.session.scalar(select(func.count()).where(Course.status == "published")) == 0


def test_bulk_reject_of_975_is_one_confirmed_action_with_one_reason(
    client, big_queue, make_user, login, csrf
):
    old, edx = big_queue
    staff = make_user("staff@edx.example", staff_of=edx)
    curator = make_user(curator=True)
    login(client, curator)
    token = csrf(client)
    ask = client.post(
        "/curation/bulk",
        data={"csrf_token": token, "action": "reject", "scope": "all", "provider": edx.id},
    )
    text = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "Reject 975 courses?" in text
    assert db.session.scalar(select(func.count()).where(Course.status == "rejected")) == 0
    no_reason = client.post(
        "/curation/bulk",
        data={
            "csrf_token": token,
            "action": "reject",
            "scope": "all",
            "provider": edx.id,
            "confirmed": "yes",
        },  # fmt: skip
    )
    assert no_reason.status_code == 422 and "Say why" in no_reason.get_data(as_text=True)
    done = client.post(
        "/curation/bulk",
        data={
            "csrf_token": token,
            "action": "reject",
            "scope": "all",
            "provider": edx.id,
            "confirmed": "yes",
            "reason": "Add UK-relevant who-it's-for text.",
        },  # fmt: skip
    )
    assert done.status_code == 303
    db.session.expire_all()
    rejected = db.session.scalars(select(Course).where(Course.status == "rejected")).all()
    assert len(rejected) == 975 and {c.provider_id for c in rejected} == {edx.id}
    assert {c.rejection_reason for c in rejected} == {"Add UK-relevant who-it's-for text."}
    assert (
        db.session.scalar(select(func.count()).where(AuditEntry.action == "course.rejected")) == 975
    )
    # the provider's staff get one message for the lot
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.to_address == staff.email and message.subject.startswith("975 courses")
    assert curation.queue_counts()["new"] == 9025


def test_a_bulk_action_with_nothing_chosen_changes_nothing(
    client, big_queue, make_user, login, csrf
):
    login(client, make_user(curator=True))
    response = client.post("/curation/bulk", data={"csrf_token": csrf(client), "action": "approve"})
    assert response.status_code == 422
    assert "Tick at least one course" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(Course.status == "published")) == 0


def test_bulk_approve_of_ticked_courses_after_confirmation(client, big_queue, make_user, login,
                                                          csrf):  # fmt: skip
    old, edx = big_queue
    login(client, make_user(curator=True))
    ids = list(db.session.scalars(select(Course.id).where(Course.provider_id == old.id).limit(3)))
    data = {"csrf_token": csrf(client), "action": "approve", "course": ids}
    confirm = client.post("/curation/bulk", data=data)
    assert "Approve 3 courses?" in confirm.get_data(as_text=True)
    assert client.post("/curation/bulk", data={**data, "confirmed": "yes"}).status_code == 303
    db.session.expire_all()
    assert sorted(
        db.session.scalars(select(Course.id).where(Course.status == "published"))
    ) == sorted(ids)
