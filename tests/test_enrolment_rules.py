"""Issue 14 items 2 to 5 through the pages: completion waits for the last session and can be
undone; check your answers before enrolling and withdrawing; one place per course (a move is
offered); words that match what happened."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from academy.audit import AuditEntry
from academy.catalogue.models import Cohort
from academy.credentials import openbadges
from academy.enrolment import services, states
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.formatting import plural
from academy.mail.models import OutboxMessage
from academy.portfolio.models import IssuedCredential, LearningRecordEntry


def time_passes(cohort, days: float) -> None:
    for session in cohort.sessions:
        session.starts_at -= timedelta(days=days)
        session.ends_at -= timedelta(days=days)
    db.session.commit()


def setup(make_provider, make_course, make_cohort, make_user, **course_fields):
    provider = make_provider("Provider X")
    course = make_course("KUF Awareness", provider=provider, **course_fields)
    cohort = make_cohort(course, capacity=2, session_days=(0, 7))
    staff = make_user(name="Sam Staff", staff_of=provider)
    return provider, course, cohort, staff


def marks_url(provider, cohort) -> str:
    return f"/provider/{provider.slug}/cohorts/{cohort.id}/marks"


# ---------------------------------------------------------------------------- completion


def test_completion_before_the_last_session_starts_is_refused_with_the_date(
    client, login, csrf, make_provider, make_course, make_cohort, make_user
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    place = services.enrol(make_user(), cohort.id)
    db.session.commit()
    time_passes(cohort, 31)  # the first session has started, the last (a week later) has not
    login(client, staff)
    response = client.post(
        marks_url(provider, cohort),
        data={"outcome": "completed", "enrolment": str(place.id), "csrf_token": csrf(client)},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Completion can be marked once the last session has started" in page
    db.session.expire_all()
    assert db.session.get(Enrolment, place.id).status == "enrolled"
    assert db.session.scalar(select(func.count(LearningRecordEntry.id))) == 0
    # attendance is allowed from the first session
    client.post(
        marks_url(provider, cohort),
        data={"outcome": "attended", "enrolment": str(place.id), "csrf_token": csrf(client)},
    )
    db.session.expire_all()
    assert db.session.get(Enrolment, place.id).attended_at is not None


def test_saving_marks_with_nobody_chosen_says_so(
    client, login, csrf, make_provider, make_course, make_cohort, make_user
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    services.enrol(make_user(), cohort.id)
    db.session.commit()
    time_passes(cohort, 40)
    login(client, staff)
    response = client.post(
        marks_url(provider, cohort),
        data={"outcome": "completed", "csrf_token": csrf(client)},
        follow_redirects=True,
    )
    assert "Choose the learners to mark" in response.get_data(as_text=True)


def test_undo_restores_the_place_and_revokes_the_entry_and_credential(
    client, login, csrf, make_provider, make_course, make_cohort, make_user
):
    provider, _, cohort, staff = setup(
        make_provider, make_course, make_cohort, make_user, cpd_hours=6
    )
    learner = make_user(name="Lee Learner")
    place = services.enrol(learner, cohort.id)
    db.session.commit()
    time_passes(cohort, 40)
    login(client, staff)
    client.post(
        marks_url(provider, cohort),
        data={"outcome": "completed", "enrolment": str(place.id), "csrf_token": csrf(client)},
    )
    entry = db.session.scalar(
        select(LearningRecordEntry).where(LearningRecordEntry.enrolment_id == place.id)
    )
    credential = openbadges.issue(learner, entry)
    db.session.commit()
    public_id = credential.public_id

    response = client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/marks/{place.id}/undo",
        data={"note": "Marked the wrong Lee.", "csrf_token": csrf(client)},
        follow_redirects=True,
    )
    assert "The mark is undone" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enrolment, place.id).status == "enrolled"
    entry = db.session.get(LearningRecordEntry, entry.id)
    assert entry.withdrawn_at is not None and entry.correction_note == "Marked the wrong Lee."
    assert db.session.scalar(
        select(IssuedCredential.revoked_at).where(IssuedCredential.public_id == public_id)
    )
    status = client.get(f"/credentials/{public_id}").get_data(as_text=True)
    assert "Revoked" in status
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "place.undo"))
    told = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "mark_undone"))
    assert told.to_address == learner.email and "revoked" in told.body
    # the learner is back on the cohort: the detail page says so, in the table's words
    learner_client = client.application.test_client()
    login(learner_client, learner)
    detail = learner_client.get(f"/my-learning/{place.id}").get_data(as_text=True)
    assert states.label("enrolled") in detail and "You withdrew" not in detail


def test_undo_after_the_window_is_refused(make_provider, make_course, make_cohort, make_user):
    from academy.providers import cohorts as provider_cohorts
    from academy.providers.services import ProviderError

    _, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    place = services.enrol(make_user(), cohort.id)
    db.session.commit()
    marked = cohort.ends_at + timedelta(hours=1)
    provider_cohorts.mark(staff, cohort, [place.id], "not_completed", now=marked)
    db.session.commit()
    late = marked + timedelta(days=states.UNDO_DAYS + 1)
    try:
        provider_cohorts.undo_mark(staff, cohort, place.id, now=late)
    except ProviderError as error:
        assert f"{states.UNDO_DAYS} days" in error.message
    else:
        raise AssertionError("an undo after the window must be refused")


def test_a_cancelled_cohort_has_no_marks_form(
    client, login, csrf, make_provider, make_course, make_cohort, make_user
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    services.enrol(make_user(), cohort.id)
    db.session.commit()
    login(client, staff)
    client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/cancel", data={"csrf_token": csrf(client)}
    )
    page = client.get(f"/provider/{provider.slug}/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Save marks" not in page and "nobody on it can be marked" in page
    response = client.post(
        marks_url(provider, cohort),
        data={"outcome": "attended", "all": "1", "csrf_token": csrf(client)},
        follow_redirects=True,
    )
    assert "Saved:" not in response.get_data(as_text=True)


# ---------------------------------------------------------------------------- check first


def test_enrolling_shows_the_cost_and_who_pays_before_anything_is_taken(
    client, login, csrf, make_provider, make_course, make_cohort, make_user
):
    provider = make_provider("Provider X")
    fee = make_course("MBT Practitioner", provider=provider, cost_type="fee", fee_pence=65000)
    funded = make_course("KUF Awareness", provider=provider, cost_type="funded")
    fee_cohort, funded_cohort = make_cohort(fee), make_cohort(funded)
    learner = make_user()
    login(client, learner)
    page = client.get(f"/cohorts/{fee_cohort.id}/enrol").get_data(as_text=True)
    assert "£650" in page and "You, or your employer, pay Provider X" in page
    assert "withdraw online, without penalty, until the first session starts" in page
    assert "Confirm and enrol" in page and "Access needs" in page
    assert db.session.scalar(select(func.count(Enrolment.id))) == 0
    page = client.get(f"/cohorts/{funded_cohort.id}/enrol").get_data(as_text=True)
    assert "Funded: a commissioner" in page and "free to you" in page
    response = client.post(
        f"/cohorts/{fee_cohort.id}/enrol",
        data={"access_needs": "Step-free access", "csrf_token": csrf(client)},
    )
    assert response.status_code == 303
    assert db.session.scalar(select(Enrolment.access_needs)) == "Step-free access"


def test_a_second_cohort_of_the_same_course_offers_a_move(
    client, login, csrf, make_provider, make_course, make_cohort, make_user
):
    provider = make_provider("Provider X")
    course = make_course("KUF Awareness", provider=provider)
    first, second = make_cohort(course, capacity=1), make_cohort(course, days=60)
    waiting_user, learner = make_user(), make_user()
    place = services.enrol(learner, first.id)
    waiting = services.enrol(waiting_user, first.id)
    db.session.commit()
    login(client, learner)
    page = client.get(f"/cohorts/{second.id}/enrol").get_data(as_text=True)
    assert "Move my place to this cohort" in page and "Confirm and enrol" not in page
    refused = client.post(f"/cohorts/{second.id}/enrol", data={"csrf_token": csrf(client)})
    assert refused.status_code == 422
    assert "another cohort of KUF Awareness" in refused.get_data(as_text=True)

    moved = client.post(f"/cohorts/{second.id}/move", data={"csrf_token": csrf(client)})
    assert moved.status_code == 303
    db.session.expire_all()
    assert db.session.get(Enrolment, place.id).status == "withdrawn"
    assert db.session.get(Enrolment, waiting.id).status == "enrolled"  # the freed place
    mine = db.session.scalar(
        select(Enrolment).where(Enrolment.user_id == learner.id, Enrolment.cohort_id == second.id)
    )
    assert mine.status == "enrolled"
    assert db.session.get(Cohort, first.id).seats_taken == 1


def test_a_course_meant_to_be_repeated_allows_two_places(
    make_provider, make_course, make_cohort, make_user
):
    course = make_course(provider=make_provider(), allow_repeats=True)
    first, second = make_cohort(course), make_cohort(course, days=60)
    learner = make_user()
    services.enrol(learner, first.id)
    assert services.enrol(learner, second.id).status == "enrolled"


def test_withdrawing_asks_first_and_says_whether_the_waitlist_moves_up(
    client, login, csrf, make_provider, make_course, make_cohort, make_user
):
    course = make_course(provider=make_provider())
    alone, busy = make_cohort(course, capacity=1), make_cohort(course, capacity=1, days=60)
    other_course = make_course(provider=course.provider)
    learner = make_user()
    lonely = services.enrol(learner, alone.id)
    sought = services.enrol(learner, make_cohort(other_course, capacity=1).id)
    services.enrol(make_user(), sought.cohort_id)  # someone waits for that one
    db.session.commit()
    assert busy is not None
    login(client, learner)
    page = client.get(f"/my-learning/{lonely.id}/withdraw").get_data(as_text=True)
    assert "Nobody is waiting" in page and "Yes, withdraw from this cohort" in page
    db.session.expire_all()
    assert db.session.get(Enrolment, lonely.id).status == "enrolled"  # asking changed nothing
    page = client.get(f"/my-learning/{sought.id}/withdraw").get_data(as_text=True)
    assert "first person on the waitlist" in page

    done = client.post(
        f"/my-learning/{lonely.id}/withdraw", data={"csrf_token": csrf(client)},
        follow_redirects=True,
    )  # fmt: skip
    text = done.get_data(as_text=True)
    assert "Your place is free for someone else to take" in text
    assert "gone to the" not in text
    body = db.session.scalar(select(OutboxMessage.body).where(OutboxMessage.kind == "withdrawn"))
    assert "free for someone else" in body


# ---------------------------------------------------------------------------- words


def test_plural_is_right_for_one_and_many():
    assert plural(1, "learner") == "1 learner"
    assert plural(0, "learner") == "0 learners"
    assert plural(2, "session") == "2 sessions"
    assert plural(3, "person") == "3 people"
    assert plural(1, "place") == "1 place"
    assert plural(1200, "place") == "1,200 places"


def test_every_state_has_words_and_every_transition_names_known_states():
    for name, state in states.STATES.items():
        assert state.label and states.label(name) == state.label
    for transition in states.TRANSITIONS.values():
        assert transition.target in states.STATES
        assert all(s is None or s in states.STATES for s in transition.sources)


def test_cancelling_a_cohort_tells_the_provider_how_many_in_words(
    client, login, csrf, make_provider, make_course, make_cohort, make_user
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    services.enrol(make_user(), cohort.id)
    db.session.commit()
    login(client, staff)
    response = client.post(
        f"/provider/{provider.slug}/cohorts/{cohort.id}/cancel",
        data={"csrf_token": csrf(client)},
        follow_redirects=True,
    )
    assert "we have emailed 1 learner." in response.get_data(as_text=True)


def test_the_cohort_page_costs_the_same_queries_for_few_or_many_learners(
    client, login, count_queries, make_provider, make_course, make_cohort, make_user
):
    provider, _, cohort, staff = setup(make_provider, make_course, make_cohort, make_user)
    login(client, staff)
    url = f"/provider/{provider.slug}/cohorts/{cohort.id}"

    def queries() -> int:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        return counter.count

    services.enrol(make_user(), cohort.id)
    db.session.commit()
    few = queries()
    for _ in range(6):
        services.enrol(make_user(), cohort.id)
    db.session.commit()
    assert queries() == few
