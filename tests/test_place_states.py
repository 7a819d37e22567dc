"""Issue 14: the state machine of a place, driven at random over several learners and two
small cohorts of one course (SQLite and PostgreSQL, as the suite's database is).

The rules call the same service functions the pages call; after every step the invariants are
read back from the database: never more places taken than capacity, and ``seats_taken`` counts
exactly the rows that hold a seat; the waitlist is served first come, first served; a cancelled
cohort has no active place; at most one active place per learner per course; a live verified
entry exists exactly when a completion stands, and live credentials only on live entries; every
change of state has its audit entry (each place's audit trail chains from "no place" to its
state now, through the transitions in ``academy.enrolment.states``).
"""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from academy.audit import AuditEntry
from academy.catalogue.models import Cohort, CohortSession
from academy.credentials import openbadges
from academy.db_types import utcnow
from academy.enrolment import services, states
from academy.enrolment.models import Enrolment
from academy.extensions import db
from academy.portfolio.models import IssuedCredential, LearningRecordEntry
from academy.providers import cohorts as provider_cohorts
from academy.providers.services import ProviderError

LEARNERS = 5
QUALIFIED = 3  # learners 0..2 have the prerequisite; 3..4 must ask for a place


def test_a_place_follows_the_state_table(app, make_provider, make_course, make_user):
    factories = {"provider": make_provider, "course": make_course, "user": make_user}

    class Places(RuleBasedStateMachine):
        @initialize()
        def world(self):
            self.base = utcnow()
            self.now = self.base
            provider = factories["provider"]()
            self.staff = factories["user"](staff_of=provider, admin=True)
            first = factories["course"](provider=provider)
            self.course = factories["course"](provider=provider, prerequisites=[first])
            self.learners = [factories["user"]() for _ in range(LEARNERS)]
            done = Cohort(
                course=first,
                capacity=LEARNERS,
                location="Leeds",
                sessions=[self._session(-20)],
            )
            self.cohorts = [
                Cohort(
                    course=self.course,
                    capacity=2,
                    location="Leeds",
                    enrolment_closes_at=self.base + timedelta(days=9),
                    sessions=[self._session(10), self._session(12)],
                )
                for _ in range(2)
            ]
            db.session.add_all([done, *self.cohorts])
            db.session.flush()
            for learner in self.learners[:QUALIFIED]:  # the prerequisite, done long ago
                db.session.add(Enrolment(user=learner, cohort=done, status="completed"))
            db.session.commit()
            self.cohort_ids = [c.id for c in self.cohorts]
            self.started = False
            self.steps = 0  # cancelling and time passing end most stories: they wait a little

        def _session(self, days: int) -> CohortSession:
            start = self.base + timedelta(days=days)
            return CohortSession(starts_at=start, ends_at=start + timedelta(hours=6))

        # ------------------------------------------------------------------ helpers

        def _row(self, learner: int, which: int) -> Enrolment | None:
            return db.session.scalar(
                select(Enrolment).where(
                    Enrolment.user_id == self.learners[learner].id,
                    Enrolment.cohort_id == self.cohort_ids[which],
                )
            )

        def _waiting(self, which: int) -> list[int]:
            return list(
                db.session.scalars(
                    select(Enrolment.id)
                    .where(
                        Enrolment.cohort_id == self.cohort_ids[which],
                        Enrolment.status == "waitlisted",
                    )
                    .order_by(Enrolment.queued_at, Enrolment.id)
                )
            )

        def _run(self, action, which: int | None = None):
            """Run one operation and commit; a refusal changes nothing. When ``which`` is
            given, check that anyone promoted came first off that cohort's waitlist."""
            self.steps += 1
            waiting = self._waiting(which) if which is not None else []
            before_enrolled = self._ids(which, "enrolled") if which is not None else set()
            try:
                action()
            except (services.EnrolmentError, ProviderError):
                db.session.rollback()
                return
            db.session.commit()
            db.session.expire_all()
            if which is not None:
                promoted = [i for i in waiting if i in self._ids(which, "enrolled")]
                assert promoted == waiting[: len(promoted)], "first come, first served"
                assert before_enrolled is not None

        def _pick(self, which: int, pick: int, among=tuple(states.STATES)) -> Enrolment | None:
            """One of the cohort's rows in ``among`` (so the provider acts on someone there)."""
            rows = db.session.scalars(
                select(Enrolment)
                .where(Enrolment.cohort_id == self.cohort_ids[which], Enrolment.status.in_(among))
                .order_by(Enrolment.id)
            ).all()
            return rows[pick % len(rows)] if rows else None

        def _ids(self, which: int, status: str) -> set[int]:
            return set(
                db.session.scalars(
                    select(Enrolment.id).where(
                        Enrolment.cohort_id == self.cohort_ids[which], Enrolment.status == status
                    )
                )
            )

        # ------------------------------------------------------------------ learners

        @rule(learner=st.integers(0, QUALIFIED - 1), which=st.integers(0, 1))
        def enrol(self, learner, which):
            user = self.learners[learner]
            self._run(lambda: services.enrol(user, self.cohort_ids[which], now=self.now), which)

        @rule(learner=st.integers(QUALIFIED, LEARNERS - 1), which=st.integers(0, 1))
        def request(self, learner, which):
            user = self.learners[learner]
            self._run(
                lambda: services.request_place(
                    user, self.cohort_ids[which], reason="Ten years' practice", now=self.now
                )
            )

        @rule(learner=st.integers(0, LEARNERS - 1), which=st.integers(0, 1))
        def move(self, learner, which):
            user, other = self.learners[learner], self._row(learner, 1 - which)
            if other is not None:
                self._run(
                    lambda: services.move(user, other.id, self.cohort_ids[which], now=self.now),
                    1 - which,
                )

        @rule(learner=st.integers(0, LEARNERS - 1), which=st.integers(0, 1))
        def withdraw(self, learner, which):
            row = self._row(learner, which)
            if row is not None:
                user = self.learners[learner]
                self._run(lambda: services.withdraw(user, row.id, now=self.now), which)

        # ------------------------------------------------------------------ the provider

        def _cohort(self, which: int) -> Cohort:
            return db.session.get(Cohort, self.cohort_ids[which])

        @rule(pick=st.integers(0, 9), which=st.integers(0, 1), accept=st.booleans())
        def decide(self, pick, which, accept):
            row = self._pick(which, pick, ("requested",))
            if row is not None:
                self._run(
                    lambda: provider_cohorts.decide_request(
                        self.staff, self._cohort(which), row.id, accept
                    ),
                    which,
                )

        @precondition(lambda self: self.steps % 3 == 0)
        @rule(which=st.integers(0, 1), capacity=st.integers(1, 4))
        def capacity(self, which, capacity):
            self._run(lambda: services.change_capacity(self._cohort(which), capacity), which)

        @precondition(lambda self: self.steps >= 25)
        @rule(which=st.integers(0, 1))
        def cancel(self, which):
            self._run(lambda: provider_cohorts.cancel_cohort(self.staff, self._cohort(which)))

        @precondition(lambda self: not self.started and self.steps >= 10)
        @rule()
        def time_passes(self):
            """The last session starts: enrolment is closed and marks are allowed."""
            self.now = self.base + timedelta(days=12, hours=1)
            self.started = True

        @rule(pick=st.integers(0, 9), which=st.integers(0, 1),
              outcome=st.sampled_from(["attended", "completed", "not_completed"]))  # fmt: skip
        def mark(self, pick, which, outcome):
            row = self._pick(which, pick, states.SEAT_STATES)
            if row is not None:
                self._run(
                    lambda: provider_cohorts.mark(
                        self.staff, self._cohort(which), [row.id], outcome, now=self.now
                    )
                )

        @rule(pick=st.integers(0, 9), which=st.integers(0, 1))
        def undo(self, pick, which):
            row = self._pick(which, pick, ("completed", "not_completed"))
            if row is not None:
                self._run(
                    lambda: provider_cohorts.undo_mark(
                        self.staff, self._cohort(which), row.id, now=self.now
                    )
                )

        @rule(learner=st.integers(0, LEARNERS - 1))
        def take_credential(self, learner):
            user = self.learners[learner]
            for entry in db.session.scalars(
                select(LearningRecordEntry).where(
                    LearningRecordEntry.user_id == user.id,
                    LearningRecordEntry.withdrawn_at.is_(None),
                )
            ):
                openbadges.issue(user, entry)
            db.session.commit()

        # ------------------------------------------------------------------ invariants

        @invariant()
        def seats_are_counted_and_never_overbooked(self):
            for cohort_id in self.cohort_ids:
                cohort = db.session.get(Cohort, cohort_id)
                held = db.session.scalar(
                    select(func.count(Enrolment.id)).where(
                        Enrolment.cohort_id == cohort_id,
                        Enrolment.status.in_(states.SEAT_STATES),
                    )
                )
                assert cohort.seats_taken == held <= cohort.capacity or (
                    cohort.is_cancelled and cohort.seats_taken == held
                )

        @invariant()
        def nobody_waits_beside_a_free_place(self):
            for which, cohort_id in enumerate(self.cohort_ids):
                cohort = db.session.get(Cohort, cohort_id)
                if cohort.seats_taken < cohort.capacity and not cohort.is_cancelled:
                    assert self._waiting(which) == []

        @invariant()
        def a_cancelled_cohort_has_no_active_place(self):
            for cohort_id in self.cohort_ids:
                if db.session.get(Cohort, cohort_id).is_cancelled:
                    assert not db.session.scalar(
                        select(func.count(Enrolment.id)).where(
                            Enrolment.cohort_id == cohort_id,
                            Enrolment.status.in_(states.ACTIVE),
                        )
                    )

        @invariant()
        def one_place_per_learner_per_course(self):
            rows = db.session.execute(
                select(Enrolment.user_id, func.count(Enrolment.id))
                .where(
                    Enrolment.cohort_id.in_(self.cohort_ids),
                    Enrolment.status.in_(states.BLOCKING),
                )
                .group_by(Enrolment.user_id)
            ).all()
            assert all(count <= 1 for _, count in rows), rows

        @invariant()
        def a_live_entry_and_credential_exactly_when_completed(self):
            rows = db.session.scalars(
                select(Enrolment).where(Enrolment.cohort_id.in_(self.cohort_ids))
            ).all()
            for row in rows:
                entry = db.session.scalar(
                    select(LearningRecordEntry).where(LearningRecordEntry.enrolment_id == row.id)
                )
                live = entry is not None and entry.withdrawn_at is None
                assert live == (row.status == "completed"), (row.status, entry)
                if entry is not None and not live:
                    assert not db.session.scalar(
                        select(func.count(IssuedCredential.id)).where(
                            IssuedCredential.entry_id == entry.id,
                            IssuedCredential.revoked_at.is_(None),
                        )
                    )

        @invariant()
        def every_change_has_its_audit_entry(self):
            rows = db.session.scalars(
                select(Enrolment).where(Enrolment.cohort_id.in_(self.cohort_ids))
            ).all()
            trails = {row.id: [] for row in rows}
            for entry in db.session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("place.%")).order_by(AuditEntry.id)
            ):
                detail = json.loads(entry.detail)
                if detail["enrolment"] in trails:
                    trails[detail["enrolment"]].append((entry.action[6:], detail["from"]))
            for row in rows:
                state = None
                for event, came_from in trails[row.id]:
                    assert came_from == state and states.allowed(state, event), (
                        row.id,
                        trails[row.id],
                    )
                    state = states.target(event)
                assert state == row.status, (row.id, trails[row.id], row.status)

        def teardown(self):
            db.session.rollback()

    run_state_machine_as_test(
        Places,
        settings=settings(
            max_examples=20,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
