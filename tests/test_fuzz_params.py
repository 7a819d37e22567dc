"""Odd input never becomes a server error (issue 15, item 4).

Every rule of the URL map, as each role (anonymous, learner, provider staff, curator), with
odd path values and query parameters: Unicode digits ("²", "٣"), NUL and other control
characters, numbers too large for the columns, far dates, long strings. The answer may be 400 or
404 (or a page that ignores the value), never 5xx. Runs on SQLite and, with
``TEST_DATABASE_URL``, on PostgreSQL (which refuses NUL in text and integers beyond 32 bits).
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from academy import params
from academy.enrolment import services as enrolment

ROLES = ("anonymous", "learner", "staff", "curator")

NASTY = [
    "²",
    "٣",
    "1²",
    "\x00",
    "a\x00b",
    "\x1b[0m",
    "\x7f",
    "\u0085",
    "0",
    "-1",
    "2147483648",
    "9223372036854775808",
    "9" * 40,
    "9" * 5000,
    "1e9",
    " 7",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "x" * 3000,
    "é",
    "..",
    "%",
    "",
]

#: the sweep sends each of these as every path value and every parameter at once
SWEEP = [
    "²",
    "٣",
    "a\x00b",
    "\x7f",
    "2147483648",
    "9" * 5000,
    "0001-01-01",
    "9999-12-31",
    "x" * 3000,
]

#: every parameter name the app reads from a query string or a hand-read form
QUERY_NAMES = [
    "page",
    "per_page",
    "person",
    "provider",
    "course",
    "since",
    "until",
    "year",
    "kind",
    "q",
    "sort",
    "weeks",
    "next",
    "sector",
    "step",
    "profession",
    "region",
    "mode",
    "free",
    "token",
    "enrolment",
    "outcome",
    "all",
    "note",
    "action",
    "name",
    "make_admin",
]


@pytest.fixture
def fuzz_world(app, taxonomy, make_provider, make_course, make_cohort, make_user, login):
    provider = make_provider("Provider X")
    course = make_course(provider=provider)
    cohort = make_cohort(course, capacity=5)
    people = {
        "learner": make_user(),
        "staff": make_user(staff_of=provider, admin=True),
        "curator": make_user(curator=True),
    }
    place = enrolment.enrol(people["learner"], cohort.id)
    from academy.extensions import db

    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False  # so POSTs reach the views' parsing
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a server error is a 500 to count, not a raise
    clients = {"anonymous": app.test_client()}
    for role, user in people.items():
        clients[role] = app.test_client()
        login(clients[role], user)
    valid = {
        "cohort_id": str(cohort.id),
        "course_id": str(course.id),
        "enrolment_id": str(place.id),
        "session_id": str(cohort.sessions[0].id),
        "user_id": str(people["learner"].id),
        "provider_id": str(provider.id),
        "kind": "sectors",
    }
    return {"clients": clients, "valid": valid, "course": course, "provider": provider}


def rules(app):
    return sorted(
        (rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"),
        key=lambda rule: (rule.rule, sorted(rule.methods)),
    )


def valid_value(world, rule, name: str) -> str:
    if name == "slug":
        return world["provider"].slug if rule.rule.startswith("/provider") else world["course"].slug
    return world["valid"].get(name, "1")


def build_path(world, rule, odd: dict[str, str]) -> str:
    """The rule's path with ``odd`` values (percent-encoded) and valid ones for the rest."""
    path = rule.rule
    for name in rule.arguments:
        value = odd.get(name, valid_value(world, rule, name))
        # <name>, <int:name>, <any(a, b):name>: whatever the converter, the value goes in
        placeholder = re.compile(rf"<(?:\w+(?:\([^)]*\))?:)?{name}>")
        quoted = quote(value, safe="")
        path = placeholder.sub(lambda _, quoted=quoted: quoted, path)
    assert "<" not in path, path
    return path


def send(client, method: str, path: str, query: dict[str, str]) -> int:
    """The status of one request (its body, perhaps a file, is closed at once)."""
    if method == "GET":
        response = client.get(path, query_string=query)
    else:
        response = client.post(path, query_string=query, data=query)
    response.close()
    return response.status_code


def methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def acceptable(rule, status: int) -> bool:
    # a world without a search index is honestly not ready for traffic
    return status < 500 or (rule.endpoint == "ops.healthz" and status == 503)


def test_every_path_value_and_parameter_refuses_odd_input_without_a_5xx(app, fuzz_world):
    """A sweep: each rule, each role, each path value and each parameter set to each odd
    value in turn (the other path values valid)."""
    failures = []
    for rule in rules(app):
        for method in methods(rule):
            for role in ROLES:
                client = fuzz_world["clients"][role]
                for odd_value in SWEEP:
                    odd = dict.fromkeys(rule.arguments, odd_value)
                    query = dict.fromkeys(QUERY_NAMES, odd_value)
                    path = build_path(fuzz_world, rule, odd)
                    status = send(client, method, path, query)
                    if not acceptable(rule, status):
                        failures.append(
                            f"{role} {method} {path[:80]!r} {odd_value[:12]!r}: {status}"
                        )
    assert failures == []


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_odd_input_never_gives_a_5xx(app, fuzz_world, data):
    """Hypothesis picks a rule, a role, which path values are odd and a few parameters."""
    rule = data.draw(st.sampled_from(rules(app)), label="rule")
    method = data.draw(st.sampled_from(methods(rule)), label="method")
    role = data.draw(st.sampled_from(ROLES), label="role")
    odd_text = st.one_of(
        st.sampled_from(NASTY),
        st.text(max_size=40),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(str),
    )
    odd = {
        name: data.draw(odd_text, label=name)
        for name in rule.arguments
        if data.draw(st.booleans(), label=f"odd {name}")
    }
    query = data.draw(
        st.dictionaries(st.sampled_from(QUERY_NAMES), odd_text, max_size=4), label="query"
    )
    path = build_path(fuzz_world, rule, odd)
    status = send(fuzz_world["clients"][role], method, path, query)
    assert acceptable(rule, status), (role, method, path, query, status)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7", 7), (" 12 ", 12), ("2147483647", 2147483647)],
)
def test_parse_int_takes_ascii_digits_in_range(text, expected):
    assert params.parse_int(text) == expected


@pytest.mark.parametrize("text", ["²", "٣", "-1", "2147483648", "9" * 5000, "1e3", "", "\x00"])
def test_parse_int_refuses_everything_else(text):
    with pytest.raises(params.BadValue, match="whole number"):
        params.parse_int(text)


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "2026-02-30", "２０２６-01-01", "x"])
def test_parse_date_refuses_far_and_malformed_dates(text):
    with pytest.raises(params.BadValue):
        params.parse_date(text)


def test_parse_text_refuses_control_characters_and_overlong_text():
    assert params.parse_text(" a line ", max_length=10) == "a line"
    assert params.parse_text("two\nlines", max_length=10, lines=True) == "two\nlines"
    for bad in ("a\x00b", "a\nb", "\x1b", "a\u0085b"):
        with pytest.raises(params.BadValue, match="control character"):
            params.parse_text(bad, max_length=10)
    with pytest.raises(params.BadValue, match="10 characters"):
        params.parse_text("x" * 11, max_length=10)


@pytest.mark.parametrize(
    "path",
    [
        "/courses/%00",
        "/programmes/%00",
        "/provider/%00",
        "/my-learning/%C2%B2",
        "/my-learning/99999999999",
    ],
)
def test_odd_path_values_are_not_found(client, path):
    assert client.get(path).status_code == 404


def test_unicode_digits_are_not_read_as_ids(client, make_course, ctx):
    course = make_course()
    # "٣" is an Arabic-Indic three: int() reads it as 3, the converter does not
    assert client.get(f"/courses/{course.slug}").status_code == 200
    assert client.get("/my-learning/%D9%A3").status_code == 404
