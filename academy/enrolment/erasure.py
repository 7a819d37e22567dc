"""Enrolment rows of a learner who deletes their account (called by ``academy.erasure``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from academy.accounts.models import User
from academy.enrolment.models import Enrolment
from academy.enrolment.services import release_places
from academy.extensions import db


def forget_learner(user: User, now: datetime) -> None:
    """Give up places on cohorts still to come (the waitlist moves up); keep every other
    enrolment, for providers' counts, with every free text about the learner cleared.
    Flushes, never commits."""
    release_places(user, now)
    db.session.execute(
        update(Enrolment)
        .where(Enrolment.user_id == user.id)
        .values(access_needs="", request_reason="", withdrawal_reason="", decision_message="")
    )
    db.session.flush()
