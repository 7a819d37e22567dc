"""Length limits: every text field of every form refuses over-long text with a message and
keeps all of it (never cut, by the server or by a browser's ``maxlength``), and shows its limit
as a hint that works without JavaScript."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest
from flask_wtf import FlaskForm
from sqlalchemy import func, select

import academy
from academy.errors.limits import HINT_UP_TO, max_length
from academy.extensions import db
from academy.portfolio.models import LearningRecordEntry


def every_form_class() -> list[type[FlaskForm]]:
    for module in pkgutil.walk_packages(academy.__path__, "academy."):
        importlib.import_module(module.name)
    found, stack = [], list(FlaskForm.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("academy."):
            found.append(cls)
    return sorted(set(found), key=lambda c: f"{c.__module__}.{c.__name__}")


def build(cls, **kwargs):
    """An instance of ``cls`` whatever its constructor needs (lists of choices are empty)."""
    needed = [
        p
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
        if p.default is inspect.Parameter.empty
        and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return cls(*([[]] * len(needed)), meta={"csrf": False}, **kwargs)


def text_fields(app):
    cases = []
    with app.test_request_context():
        for cls in every_form_class():
            form = build(cls, formdata=None)
            for field in form:
                limit = max_length(field)
                if limit is not None:
                    cases.append((cls, field.name, limit))
    return cases


def test_the_walk_finds_the_forms(app):
    names = {f"{cls.__name__}.{name}" for cls, name, _ in text_fields(app)}
    assert {"EntryForm.relevance", "ShareLinkForm.label", "CourseForm.description"} <= names
    assert len(names) > 40


def test_every_text_field_refuses_over_long_text_with_a_message_and_keeps_it(app):
    failures = []
    for cls, name, limit in text_fields(app):
        typed = "a" * (limit + 1)
        with app.test_request_context(method="POST", data={name: typed}):
            form = build(cls)
            field = form[name]
            field.validate(form)  # this field only: others' choices are set by their views
            if not field.errors:
                failures.append(f"{cls.__name__}.{name}: accepted {limit + 1} characters")
            elif limit <= HINT_UP_TO and not any(
                f"{limit:,}" in m or str(limit) in m for m in field.errors
            ):
                failures.append(f"{cls.__name__}.{name}: the message does not say the limit")
            if field.data != typed:
                failures.append(f"{cls.__name__}.{name}: what was typed was changed")
    assert failures == []


def test_every_text_field_shows_its_limit_and_no_browser_cut(app):
    failures = []
    with app.test_request_context():
        for cls, name, limit in text_fields(app):
            html = str(build(cls, formdata=None)[name]())
            if "maxlength" in html:
                failures.append(f"{cls.__name__}.{name}: maxlength would cut pasted text")
            if limit <= HINT_UP_TO:
                hint = re.search(r'<span class="hint char-limit" id="([^"]+)"[^>]*>([^<]*)<', html)
                if not hint or hint.group(2) != f"Up to {limit:,} characters.":
                    failures.append(f"{cls.__name__}.{name}: no visible limit")
                elif hint.group(1) not in re.search(r'aria-describedby="([^"]*)"', html).group(1):
                    failures.append(f"{cls.__name__}.{name}: the limit is not tied to the field")
    assert failures == []


@pytest.fixture
def learner(client, taxonomy, make_user, login):
    user = make_user()
    login(client, user)
    return user


def test_a_20000_character_reflection_is_refused_whole_not_cut(client, csrf, learner):
    reflection = "Listening first. " * 1200  # 20,400 characters
    response = client.post(
        "/portfolio/entries/new",
        data={
            "csrf_token": csrf(client),
            "title": "Long reflection",
            "completed_on": "2026-03-03",
            "relevance": reflection,
            "reflection_confirmed": "y",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Write at most 10,000 characters." in page
    assert reflection.strip() in page  # all of it is still in the form
    assert db.session.scalar(select(func.count(LearningRecordEntry.id))) == 0
    assert "Up to 10,000 characters." in page
