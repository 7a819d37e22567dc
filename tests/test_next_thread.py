"""Keeping the thread (issue 16, item 6): a learner who sets out to enrol on a cohort lands back
on that cohort after logging in, after registering and confirming by mail, anchor included; a
``next`` that leaves this site is dropped at every step."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.conftest import TEST_PASSWORD
from tests.test_accounts import last_mail, link_in, log_in_form

PASSWORD = "a long unusual passphrase"


@pytest.fixture
def cohort_target(make_course, make_cohort):
    course = make_course()
    cohort = make_cohort(course)
    return f"/courses/{course.slug}#cohort-{cohort.id}"


def register(client, csrf, email: str, next_: str | None = None):
    url = "/register" + (f"?next={quote(next_, safe='')}" if next_ else "")
    return client.post(
        url,
        data={
            "name": "Sam Field",
            "email": email,
            "password": PASSWORD,
            "csrf_token": csrf(client),
        },
    )


def next_of(url: str) -> str | None:
    values = parse_qs(urlsplit(html.unescape(url)).query).get("next")
    return values[0] if values else None


def test_the_course_page_sends_the_cohort_anchor_inside_next(client, cohort_target):
    path, anchor = cohort_target.split("#")
    page = client.get(path).get_data(as_text=True)
    log_in = re.search(r'href="(/login\?[^"]+)"', page).group(1)
    create = re.search(r'href="(/register\?[^"]+)"', page).group(1)
    assert "#" not in log_in and "#" not in create  # encoded, not the login page's own anchor
    assert next_of(log_in) == cohort_target
    assert next_of(create) == cohort_target


def test_logging_in_lands_on_the_cohort(client, csrf, make_user, cohort_target):
    user = make_user()
    page = client.get(f"/login?next={quote(cohort_target, safe='')}").get_data(as_text=True)
    create = re.search(r'href="(/register\?[^"]+)"', page).group(1)
    assert next_of(create) == cohort_target  # "Create an account" keeps the thread too
    response = log_in_form(client, csrf, user.email, TEST_PASSWORD, next_=cohort_target)
    assert response.status_code == 302 and response.location == cohort_target


def test_registering_and_confirming_lands_on_the_cohort(client, csrf, cohort_target, ctx):
    page = client.get(f"/register?next={quote(cohort_target, safe='')}").get_data(as_text=True)
    assert next_of(re.search(r'action="([^"]+)"', page).group(1)) == cohort_target
    assert register(client, csrf, "new@example.org", cohort_target).status_code == 200
    link = link_in(last_mail("new@example.org"))
    assert next_of(link) == cohort_target
    response = client.get(link)
    assert response.status_code == 302 and response.location == cohort_target


def test_the_mail_to_a_known_address_and_a_new_link_keep_the_thread(
    client, csrf, make_user, cohort_target, ctx
):
    taken = make_user("taken@example.org")
    register(client, csrf, taken.email, cohort_target)
    assert next_of(link_in(last_mail(taken.email))) == cohort_target

    waiting = make_user("waiting@example.org", confirmed=False)
    response = log_in_form(client, csrf, waiting.email, TEST_PASSWORD, next_=cohort_target)
    assert response.status_code == 422
    assert next_of(link_in(last_mail(waiting.email))) == cohort_target


@pytest.mark.parametrize(
    "target", ["https://evil.example/x", "//evil.example", "/\\evil", "/a\x00b"]
)
def test_a_next_off_this_site_is_dropped_at_every_step(client, csrf, target, ctx):
    register(client, csrf, "new@example.org", target)
    link = link_in(last_mail("new@example.org"))
    assert next_of(link) is None
    tampered = link + "?next=" + quote(target, safe="")
    response = client.get(tampered)
    assert response.status_code == 302 and response.location == "/my-learning"
