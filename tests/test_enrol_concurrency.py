"""Acceptance: simultaneous requests against a real threaded server never overbook.

Each client is a separate ``requests`` session with its own logged-in cookie. A naive
count-then-insert view, run the same way, overbooks: proof that the harness can see the failure.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import requests
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.serving import make_server

from academy.accounts.security import start_session
from academy.catalogue.models import Cohort
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.mail.models import OutboxMessage


@contextmanager
def serving(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def logged_in_session(app, user) -> tuple[requests.Session, str]:
    """A browser-like client holding ``user``'s session cookie, and a CSRF token for it."""
    token = start_session(db.session.merge(user))
    db.session.commit()
    raw = secrets.token_hex(20)
    cookie = app.session_interface.get_signing_serializer(app).dumps(
        {"_user_id": token, "_fresh": True, "csrf_token": raw}
    )
    client = requests.Session()
    client.cookies.set(app.config["SESSION_COOKIE_NAME"], cookie)
    return client, URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


def post_all_at_once(clients, url_for_client) -> list[int]:
    barrier = threading.Barrier(len(clients))

    def post(index):
        client, token = clients[index]
        barrier.wait(timeout=30)
        return client.post(
            url_for_client(index), data={"csrf_token": token}, allow_redirects=False, timeout=60
        ).status_code

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return list(pool.map(post, range(len(clients))))


def status_counts(cohort_id: int) -> Counter:
    db.session.expire_all()
    return Counter(
        dict(
            db.session.execute(
                select(Enrolment.status, func.count())
                .where(Enrolment.cohort_id == cohort_id)
                .group_by(Enrolment.status)
            ).all()
        )
    )


NAIVE_RACERS = 12  # within the default pool (5 + 10 overflow) so every racer holds a connection


def test_fifty_simultaneous_enrolments_fill_ten_places_exactly(
    app, make_course, make_cohort, make_user
):
    course = make_course()
    cohort = make_cohort(course, capacity=10)
    control = make_cohort(course, capacity=10)
    naive_barrier = threading.Barrier(NAIVE_RACERS)

    def naive_enrol(cohort_id: int):
        """The wrong way: count the places taken, then insert. Never do this."""
        taken = db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.cohort_id == cohort_id, Enrolment.status == "enrolled"
            )
        )
        capacity = db.session.get(Cohort, cohort_id).capacity
        naive_barrier.wait(timeout=30)  # every racer has counted before anyone inserts
        status = "enrolled" if taken < capacity else "waitlisted"
        db.session.add(Enrolment(user_id=current_user.id, cohort_id=cohort_id, status=status))
        db.session.commit()
        return "", 204

    app.add_url_rule("/test-only/naive/<int:cohort_id>", view_func=naive_enrol, methods=["POST"])

    users = [make_user() for _ in range(50)]
    clients = [logged_in_session(app, user) for user in users]
    cohort_id, control_id = cohort.id, control.id
    with serving(app) as base:
        codes = post_all_at_once(clients, lambda i: f"{base}/cohorts/{cohort_id}/enrol")
        naive_codes = post_all_at_once(
            clients[:NAIVE_RACERS], lambda i: f"{base}/test-only/naive/{control_id}"
        )

    assert Counter(codes) == {303: 50}
    assert status_counts(cohort.id) == {"enrolled": 10, "waitlisted": 40}
    assert db.session.get(Cohort, cohort.id).seats_taken == 10
    kinds = Counter(db.session.scalars(select(OutboxMessage.kind)))
    assert kinds == {"enrolled": 10, "waitlisted": 40}
    # The control overbooks: every racer saw 0 of 10 taken.
    assert Counter(naive_codes) == {204: NAIVE_RACERS}
    assert status_counts(control.id)["enrolled"] == NAIVE_RACERS > control.capacity


def test_two_racing_withdrawals_promote_each_waiting_learner_once(
    app, make_course, make_cohort, make_user
):
    from academy.enrolment import services

    cohort = make_cohort(make_course(), capacity=2)
    holders = [make_user(), make_user()]
    waiting = [make_user() for _ in range(3)]
    places = [services.enrol(u, cohort.id) for u in holders]
    queue = [services.enrol(u, cohort.id) for u in waiting]
    db.session.commit()
    place_ids = [p.id for p in places]
    queue_ids = [q.id for q in queue]
    clients = [logged_in_session(app, user) for user in holders]
    with serving(app) as base:
        codes = post_all_at_once(clients, lambda i: f"{base}/my-learning/{place_ids[i]}/withdraw")
    assert codes == [303, 303]
    db.session.expire_all()
    assert [db.session.get(Enrolment, i).status for i in queue_ids] == [
        "enrolled",
        "enrolled",
        "waitlisted",
    ]
    assert db.session.get(Cohort, cohort.id).seats_taken == 2
    promoted = Counter(
        db.session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "promoted"))
    )
    assert promoted == {waiting[0].email: 1, waiting[1].email: 1}
    assert services.waitlist_positions([queue_ids[2]]) == {queue_ids[2]: 1}


ACTIVE = ("enrolled", "waitlisted", "requested")


def test_enrolments_racing_a_cancellation_leave_no_place_and_mail_each_learner_once(
    app, make_provider, make_course, make_cohort, make_user
):
    """Issue 15: learners enrol while the provider cancels; repeated, on either database."""
    provider = make_provider()
    staff = make_user(staff_of=provider, admin=True)
    course = make_course(provider=provider)
    learners = [make_user() for _ in range(24)]
    slug = provider.slug
    clients = [logged_in_session(app, user) for user in learners]
    staff_client = logged_in_session(app, staff)
    for _ in range(3):
        cohort = make_cohort(course, capacity=4)
        cohort_id = cohort.id
        racers = clients[:12] + [staff_client] + clients[12:]
        with serving(app) as base:
            codes = post_all_at_once(
                racers,
                lambda i, cid=cohort_id: (
                    f"{base}/provider/{slug}/cohorts/{cid}/cancel"
                    if i == 12
                    else f"{base}/cohorts/{cid}/enrol"
                ),
            )
        assert set(codes) <= {303, 422} and codes[12] == 303
        db.session.expire_all()
        cohort = db.session.get(Cohort, cohort_id)
        counts = status_counts(cohort_id)
        assert cohort.is_cancelled
        assert not any(counts.get(status) for status in ACTIVE), counts
        assert cohort.seats_taken == 0
        rows = dict(
            db.session.execute(
                select(Enrolment.id, Enrolment.status).where(Enrolment.cohort_id == cohort_id)
            ).all()
        )
        cancelled = {eid for eid, status in rows.items() if status == "cancelled"}
        # each cancellation mail links the place it is about: count them per place
        told = Counter(
            int(match)
            for body in db.session.scalars(
                select(OutboxMessage.body).where(OutboxMessage.kind == "cohort_cancelled")
            )
            for match in re.findall(r"/my-learning/(\d+)", body)
            if int(match) in rows
        )
        assert told == Counter({eid: 1 for eid in cancelled})
        # the learners who came after the cancellation were refused and hold no row
        assert len(rows) == len(cancelled) == codes.count(303) - 1


def test_enrolments_racing_a_capacity_cut_never_overbook(
    app, make_provider, make_course, make_cohort, make_user
):
    provider = make_provider()
    staff = make_user(staff_of=provider, admin=True)
    cohort = make_cohort(make_course(provider=provider), capacity=10)
    cohort_id, slug = cohort.id, provider.slug
    clients = [logged_in_session(app, make_user()) for _ in range(16)]
    staff_client = logged_in_session(app, staff)
    racers = clients[:8] + [staff_client] + clients[8:]

    def url(i, base):
        if i == 8:
            return f"{base}/provider/{slug}/cohorts/{cohort_id}/edit"
        return f"{base}/cohorts/{cohort_id}/enrol"

    barrier = threading.Barrier(len(racers))

    def post(index, base):
        client, token = racers[index]
        data = {"csrf_token": token}
        if index == 8:
            data.update(capacity="3", location="Training room 1, Leeds", closes_on="")
        barrier.wait(timeout=30)
        return client.post(url(index, base), data=data, allow_redirects=False, timeout=60)

    with serving(app) as base, ThreadPoolExecutor(max_workers=len(racers)) as pool:
        codes = [r.status_code for r in pool.map(lambda i: post(i, base), range(len(racers)))]
    db.session.expire_all()
    cohort = db.session.get(Cohort, cohort_id)
    counts = status_counts(cohort_id)
    assert codes[8] in (303, 422)  # the cut wins (3 places) or comes too late (refused)
    assert cohort.capacity == (3 if codes[8] == 303 else 10)
    assert cohort.seats_taken == counts["enrolled"] <= cohort.capacity
    assert counts["enrolled"] + counts["waitlisted"] == 16
