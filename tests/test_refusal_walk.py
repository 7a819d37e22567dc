"""Every form in the app, refused by the rules: nothing is written and the person is told.

For each POST route of the access matrix, as the role that may use it, every flush of a change
raises a :class:`DomainError` (as a service refusing would). The request must not fail (no 5xx),
no table may change, and wherever the refusal happened its message must reach the page.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from academy.extensions import db
from academy.unit_of_work import DomainError
from tests.test_access_matrix import ROLES, ROUTES, world  # noqa: F401  (world is a fixture)

PROBE = "Refused by the rules for this probe."


def row_counts() -> dict[str, int]:
    db.session.rollback()
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def authorised_role(codes: tuple[int, ...]) -> str:
    """The first signed-in role the matrix lets through, else the anonymous visitor."""
    for role, code in zip(ROLES[1:], codes[1:], strict=True):
        if code not in (403, 404):
            return role
    return ROLES[0]


def post_routes():
    return sorted(
        (endpoint, path, codes)
        for (endpoint, method), (path, codes) in ROUTES.items()
        if method == "POST" and endpoint != "accounts.logout"
    )


@pytest.fixture
def refusing_flush(monkeypatch):
    """Once armed, make every flush that would write something raise the probe refusal."""
    seen = {"refusals": 0, "armed": False}
    original = Session.flush

    def flush(self, objects=None):
        if seen["armed"] and (self.new or self.dirty or self.deleted):
            seen["refusals"] += 1
            raise DomainError(PROBE)
        return original(self, objects)

    monkeypatch.setattr(Session, "flush", flush)
    return seen


def test_a_refusal_on_any_form_writes_nothing_and_is_shown(app, world, login, refusing_flush):  # noqa: F811
    clients = {}
    for role in ROLES:
        clients[role] = app.test_client()
        if role != "anonymous":
            login(clients[role], world["people"][role])
    before = row_counts()
    refusing_flush["armed"] = True
    failures, refused_routes = [], 0
    for endpoint, path, codes in post_routes():
        client = clients[authorised_role(codes)]
        url = path.format(**world["values"])
        refusals = refusing_flush["refusals"]
        response = client.post(url, data={"probe": "1"}, follow_redirects=True)
        page = response.get_data(as_text=True)
        if response.status_code >= 500:
            failures.append(f"{endpoint}: {response.status_code}")
        if refusing_flush["refusals"] > refusals:
            refused_routes += 1
            if PROBE not in page:
                failures.append(f"{endpoint}: refused but the page does not say so")
        after = row_counts()
        if after != before:
            changed = {name for name in after if after[name] != before[name]}
            failures.append(f"{endpoint}: wrote to {sorted(changed)}")
            before = after
    assert failures == []
    assert refused_routes >= 5, "the probe reached too few services to show anything"
