"""One unit of work per request: success commits once, a refusal writes nothing and is shown."""

from __future__ import annotations

import pytest
from flask import Blueprint
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField

from academy.extensions import db
from academy.providers.models import Provider
from academy.unit_of_work import DomainError, attempt


class NameForm(FlaskForm):
    name = StringField("Name")


@pytest.fixture
def probe_app(app):
    """The app with three probe views that add a provider, then succeed or refuse."""
    bp = Blueprint("probe", __name__)

    def add(name: str) -> None:
        db.session.add(Provider(name=name, slug=name.lower()))
        db.session.flush()

    @bp.post("/_probe/ok")
    def ok():
        add("Kept")
        return "done"

    @bp.post("/_probe/refused-in-form")
    def refused_in_form():
        form = NameForm(meta={"csrf": False})
        with attempt(form) as outcome:
            add(form.name.data)
            raise DomainError("That name is taken.")
        return f"{outcome.error}|{form.form_errors}|{form.name.data}", 422

    @bp.post("/_probe/refused-uncaught")
    def refused_uncaught():
        add("Lost")
        raise DomainError("No places left on this cohort.")

    app.register_blueprint(bp)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def providers(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Provider.id)))


def test_a_view_that_returns_is_committed_once(probe_app):
    assert probe_app.test_client().post("/_probe/ok").status_code == 200
    assert providers(probe_app) == 1


def test_attempt_rolls_back_and_keeps_the_input(probe_app):
    response = probe_app.test_client().post("/_probe/refused-in-form", data={"name": "Typed"})
    assert response.status_code == 422
    assert response.get_data(as_text=True) == "That name is taken.|['That name is taken.']|Typed"
    assert providers(probe_app) == 0


def test_an_uncaught_refusal_is_a_page_not_a_500(probe_app):
    response = probe_app.test_client().post("/_probe/refused-uncaught")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "No places left on this cohort." in page
    assert "Nothing was changed" in page
    assert providers(probe_app) == 0


def test_every_domain_error_is_a_domain_error():
    from academy.accounts.services import AccountError
    from academy.credentials.openbadges import CredentialError
    from academy.curation.services import CurationError
    from academy.enrolment.services import EnrolmentError
    from academy.portfolio.entries import EntryError
    from academy.portfolio.sharing import ShareError
    from academy.providers.services import ProviderError

    for error in (
        AccountError,
        CredentialError,
        CurationError,
        EnrolmentError,
        EntryError,
        ShareError,
        ProviderError,
    ):
        assert issubclass(error, DomainError)
