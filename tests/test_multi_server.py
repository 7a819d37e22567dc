"""Several servers on one PostgreSQL database, shown on one machine.

Each test starts two app servers as separate gunicorn processes (two workers of four threads
each), every server with its own search index directory and its own `flask search sync
--follow`, exactly as `docs/deploy.md` lays out a multi-server site. The test process itself
only prepares rows and checks the database afterwards; every change goes through HTTP.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from academy import PROJECT_ROOT, create_app
from academy.catalogue.models import Cohort, Course
from academy.curation import services as curation_services
from academy.db_types import utcnow
from academy.enrolment import services
from academy.enrolment.models import Enrolment
from academy.extensions import db
from tests.conftest import free_port, reset_schema
from tests.test_enrol_concurrency import logged_in_session, post_all_at_once

SECRET_KEY = "multi-server-test-key-0123456789abcdef0123456789"
BIN = Path(sys.executable).parent
START_DEADLINE = 30.0  # seconds for a server to boot and its follower to build the index
SEARCH_DEADLINE = 2.0  # the requirement: published on A, found on B within two seconds


@pytest.fixture(scope="module")
def app(request, tmp_path_factory):
    """One schema for the module's tests: booting the servers once keeps the file fast, and the
    servers' indexes stay true only while the outbox they follow is never reset under them."""
    url = request.config.getoption("--database-url") or os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres")):
        pytest.skip(
            "several servers share one PostgreSQL database; SQLite is one file on one machine "
            "(set TEST_DATABASE_URL to run this)"
        )
    app = create_app(
        {
            "TESTING": True,
            "SEARCH_SYNC": "off",
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,  # the servers' key: its session cookies work there
            "SEARCH_INDEX_DIR": str(tmp_path_factory.mktemp("test-process-index")),
            "RATE_LIMITS_ENABLED": False,
            "REQUEST_LOG": False,
        }
    )
    with app.app_context():
        reset_schema()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        reset_schema()
        db.engine.dispose()


@dataclass
class Server:
    """One server of the layout: gunicorn plus its own search follower and index."""

    name: str
    root: Path
    environ: dict[str, str]
    port: int = field(default_factory=free_port)
    web: subprocess.Popen | None = None
    follower: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, kind: str, command: list[str]) -> subprocess.Popen:
        log = open(self.root / f"{kind}.log", "ab")  # noqa: SIM115  (closed with the process)
        environ = {**self.environ, "GUNICORN_BIND": f"127.0.0.1:{self.port}"}
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as one, by its id
        )
        log.close()
        return process

    def start_web(self) -> None:
        self.web = self._spawn(
            "web", [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"]
        )

    def start_follower(self) -> None:
        self.follower = self._spawn(
            "follower",
            [
                str(BIN / "flask"),
                "--app",
                "wsgi",
                "search",
                "sync",
                "--follow",
                "--interval",
                "0.2",
            ],
        )

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children").read_text()
        return [int(pid) for pid in children.split()]

    def wait_until_healthy(self, deadline: float = START_DEADLINE) -> None:
        until = time.monotonic() + deadline
        while time.monotonic() < until:
            for process in (self.web, self.follower):
                if process.poll() is not None:
                    raise AssertionError(f"{self.name} exited:\n{self.logs()}")
            try:
                if requests.get(self.url + "/healthz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass  # still booting: gunicorn listens before its workers have loaded the app
            time.sleep(0.1)
        raise AssertionError(f"{self.name} not healthy within {deadline} s:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-3000:] for path in sorted(self.root.glob("*.log"))
        )

    def signal_stop(self) -> None:
        # SIGINT is gunicorn's quick shutdown (no wait for idle keep-alive connections); the
        # follower stops on either signal after the pass it is in.
        for process in (self.follower, self.web):
            if process is None or process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGINT)

    def wait_stopped(self) -> None:
        for process in (self.follower, self.web):
            if process is None:
                continue
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


@pytest.fixture(scope="module")
def servers(app, tmp_path_factory):
    """Servers A and B, each with gunicorn, a follower and its own index, on one database."""
    tmp_path = tmp_path_factory.mktemp("servers")
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ACADEMY_", "GUNICORN_")) and key != "SECRET_KEY"
    }
    started = []
    try:
        for name in ("a", "b"):
            root = tmp_path / f"server-{name}"
            root.mkdir()
            server = Server(
                name,
                root,
                {
                    **environ,
                    "ACADEMY_ENV": "production",
                    "SECRET_KEY": SECRET_KEY,
                    "DATABASE_URL": app.config["DATABASE_URL"],
                    "SEARCH_INDEX_DIR": str(root / "index"),
                    "ACADEMY_MAIL_FILE_DIR": str(root / "mail"),
                    "ACADEMY_SESSION_COOKIE_SECURE": "false",  # plain HTTP on loopback
                    # the test polls search from one address; the default limit would refuse it
                    "ACADEMY_RATE_LIMIT_SEARCH_API": "6000/minute",
                    "GUNICORN_WORKERS": "2",
                    "GUNICORN_THREADS": "4",
                    "GUNICORN_GRACEFUL_TIMEOUT": "5",
                },
            )
            started.append(server)
            server.start_follower()
            server.start_web()
        for server in started:
            server.wait_until_healthy()
        yield started
    finally:
        for server in started:
            server.signal_stop()
        for server in started:
            server.wait_stopped()


def search_finds(server: Server, word: str) -> set[str]:
    found = requests.get(f"{server.url}/api/v1/courses", params={"q": word}, timeout=5).json()
    return {course["title"] for course in found["results"]}


def wait_for_search(server: Server, word: str, title: str, deadline: float) -> float:
    """Poll ``server``'s search until it finds ``title``; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        if title in search_finds(server, word):
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{title!r} not found on server {server.name} within {deadline} s")


def test_published_on_a_is_found_on_b_and_enrolments_through_both_never_overbook(
    app, servers, make_provider, make_course, make_cohort, make_user
):
    a, b = servers
    provider = make_provider(verified_at=utcnow())
    course = make_course("Quillwort reflective supervision", provider=provider, status="submitted")
    curator, curator_token = logged_in_session(app, make_user(curator=True))

    # A curator approves the course through server A ...
    approved = curator.post(
        f"{a.url}/curation/courses/{course.id}/approve",
        data={"csrf_token": curator_token},
        allow_redirects=False,
        timeout=10,
    )
    assert approved.status_code == 303
    # ... and server B, with its own index fed by its own follower, finds it by search.
    wait_for_search(b, "quillwort", "Quillwort reflective supervision", SEARCH_DEADLINE)

    # Forty learners enrol at once, half through each server, for ten places.
    cohort = make_cohort(make_course(provider=provider), capacity=10)
    learners = [make_user() for _ in range(40)]
    clients = [logged_in_session(app, user) for user in learners]
    cohort_id = cohort.id  # the threads below have no app context to load it in
    codes = post_all_at_once(clients, lambda i: f"{(a, b)[i % 2].url}/cohorts/{cohort_id}/enrol")
    assert Counter(codes) == {303: 40}
    db.session.expire_all()
    rows = db.session.scalars(select(Enrolment).where(Enrolment.cohort_id == cohort.id)).all()
    assert Counter(row.status for row in rows) == {"enrolled": 10, "waitlisted": 30}
    assert db.session.get(Cohort, cohort.id).seats_taken == 10

    # Waitlist order holds: positions follow the order learners joined, whichever server took
    # them, and freed places go to the front of the queue.
    queue = sorted((r for r in rows if r.status == "waitlisted"), key=lambda r: (r.queued_at, r.id))
    positions = services.waitlist_positions([r.id for r in queue])
    assert [positions[r.id] for r in queue] == list(range(1, 31))
    holders = [r for r in rows if r.status == "enrolled"][:3]
    by_user = {user.id: index for index, user in enumerate(learners)}
    for server, holder in zip((a, b, a), holders, strict=True):
        client, token = clients[by_user[holder.user_id]]
        withdrawn = client.post(
            f"{server.url}/my-learning/{holder.id}/withdraw",
            data={"csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert withdrawn.status_code == 303
    db.session.expire_all()
    assert [db.session.get(Enrolment, r.id).status for r in queue[:4]] == [
        "enrolled",
        "enrolled",
        "enrolled",
        "waitlisted",
    ]
    assert services.waitlist_positions([queue[3].id]) == {queue[3].id: 1}
    assert db.session.get(Cohort, cohort.id).seats_taken == 10


def test_killing_a_worker_and_the_follower_loses_nothing_acknowledged(
    app, servers, make_provider, make_course, make_cohort, make_user
):
    a, b = servers
    provider = make_provider(verified_at=utcnow())
    staff, staff_token = logged_in_session(app, make_user(staff_of=provider, admin=True))
    curator = make_user(curator=True)
    sample = make_course(provider=provider)
    required = {  # the editor's required choices, as the form sends them
        "step": str(sample.step_id),
        "delivery_mode": str(sample.delivery_mode_id),
        "region": str(sample.region_id),
    }
    courses = [make_course(provider=provider) for _ in range(12)]
    cohort = make_cohort(courses[0], capacity=200)
    learners = [make_user() for _ in range(36)]
    clients = [logged_in_session(app, user) for user in learners]
    # plain values: the threads below have no app context to load attributes in
    course_ids = [c.id for c in courses]
    references = {c.id: c.reference for c in courses}
    learner_ids = [user.id for user in learners]
    cohort_id, slug = cohort.id, provider.slug

    acknowledged_enrolments: list[int] = []
    acknowledged_titles: dict[int, str] = {}
    halfway = threading.Event()
    lock = threading.Lock()

    def enrol(index: int) -> None:
        client, token = clients[index]
        server = (a, b)[index % 2]
        try:
            response = client.post(
                f"{server.url}/cohorts/{cohort_id}/enrol",
                data={"csrf_token": token},
                allow_redirects=False,
                timeout=15,
            )
        except requests.RequestException:
            return  # not acknowledged: the client would retry
        if response.status_code == 303 and "/my-learning/" in response.headers["Location"]:
            with lock:
                acknowledged_enrolments.append(learner_ids[index])
                if len(acknowledged_enrolments) >= len(learners) // 3:
                    halfway.set()

    def edit(position: int) -> None:
        course_id = course_ids[position]
        title = f"Marshwort practice {position} edition"
        server = (a, b)[position % 2]
        form = {
            "csrf_token": staff_token,
            "reference": references[course_id],
            "title": title,
            "summary": "Edited while servers were failing.",
            **required,
        }
        try:
            response = staff.post(
                f"{server.url}/provider/{slug}/courses/{course_id}/edit",
                data=form,
                allow_redirects=False,
                timeout=15,
            )
        except requests.RequestException:
            return
        if response.status_code == 303:
            with lock:
                acknowledged_titles[course_id] = title

    killed: list[int] = []

    def kill_mid_stream() -> None:
        halfway.wait(timeout=30)
        killed.append(a.worker_pids()[0])
        os.kill(killed[0], signal.SIGKILL)  # one of A's web workers, mid-request
        a.follower.send_signal(signal.SIGKILL)  # and A's search follower
        a.follower.wait(timeout=10)

    killer = threading.Thread(target=kill_mid_stream)
    killer.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        jobs = [pool.submit(enrol, i) for i in range(len(learners))]
        jobs += [pool.submit(edit, p) for p in range(len(courses))]
        for job in jobs:
            job.result()
    killer.join()
    assert a.follower.poll() is not None, "the follower was killed mid-stream"

    # Nothing acknowledged was lost.
    db.session.expire_all()
    enrolled = set(
        db.session.scalars(
            select(Enrolment.user_id).where(
                Enrolment.cohort_id == cohort.id, Enrolment.status == "enrolled"
            )
        )
    )
    assert len(acknowledged_enrolments) >= len(learners) // 3
    assert set(acknowledged_enrolments) <= enrolled
    assert db.session.get(Cohort, cohort.id).seats_taken == len(enrolled)
    # an edit of a published course waits for review: each acknowledged one is kept pending
    pending = dict(db.session.execute(select(Course.id, Course.pending_edit)).all())
    assert acknowledged_titles and all(
        json.loads(pending[course_id] or "{}").get("title") == title
        for course_id, title in acknowledged_titles.items()
    )
    curation_services.bulk_decide(curator, "approve", list(acknowledged_titles))
    db.session.commit()
    titles = dict(db.session.execute(select(Course.id, Course.title)).all())
    assert all(titles[course_id] == title for course_id, title in acknowledged_titles.items())

    # A's gunicorn replaced its worker; its restarted follower brings A's index up to date.
    assert killed and killed[0] not in a.worker_pids()
    a.start_follower()
    a.wait_until_healthy()
    for server in (a, b):
        found = set()
        until = time.monotonic() + 15
        while time.monotonic() < until and not set(acknowledged_titles.values()) <= found:
            found = search_finds(server, "marshwort")
            time.sleep(0.1)
        assert set(acknowledged_titles.values()) <= found, server.logs()
