"""Shared fixtures in the flaskr style: a fresh database per test, factory fixtures, query counting.

The database is SQLite in a temporary folder unless ``TEST_DATABASE_URL`` (or ``--database-url``)
names another, such as the PostgreSQL server that ``.ci/run`` starts. Every test starts from the
models' schema with no rows: on SQLite a copy of an empty database made once per run, elsewhere
the shared database's tables emptied (or, when a test changed the schema, rebuilt).
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, event, inspect, text

from academy import PROJECT_ROOT, create_app
from academy.catalogue.models import Cohort, CohortSession, Course, Programme, ProgrammeModule
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers.models import Provider
from academy.seeding import seed_taxonomy
from academy.taxonomy.models import TERM_MODELS

SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-url",
        default=None,
        help="database for the tests (default: TEST_DATABASE_URL, else SQLite in a temp folder)",
    )


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    import os

    return (
        request.config.getoption("--database-url")
        or os.environ.get("TEST_DATABASE_URL")
        or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    )


def reset_schema() -> None:
    """Drop every table (ours, Alembic's and any an older migration left, such as
    ``password_resets`` after a downgrade) so the test starts from nothing."""
    found = MetaData()
    found.reflect(bind=db.engine)
    found.drop_all(bind=db.engine)


def empty_the_schema() -> None:
    """Leave the current app's database with the models' tables and no rows.

    When the tables are exactly the models' (the usual case: the last test made them), they are
    emptied in one ``TRUNCATE`` with their id sequences restarted, which is what dropping and
    creating them gave, at a fraction of the cost; otherwise (a test migrated, downgraded or
    dropped something) the schema is dropped and created again.
    """
    ours = set(db.metadata.tables)
    if db.engine.dialect.name == "postgresql" and set(inspect(db.engine).get_table_names()) == ours:
        names = ", ".join(f'"{name}"' for name in sorted(ours))
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE TABLE {names} RESTART IDENTITY CASCADE"))
        return
    reset_schema()
    db.create_all()


@pytest.fixture(scope="session")
def empty_sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file holding the models' schema and no rows, made once per run."""
    folder = tmp_path_factory.mktemp("empty-database")
    path = folder / "empty.sqlite3"
    app = create_app(
        {"TESTING": True, "SEARCH_SYNC": "off", "DATABASE_URL": f"sqlite:///{path}",
         "SECRET_KEY": "test-secret-key", "SEARCH_INDEX_DIR": str(folder / "index")}
    )  # fmt: skip
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return path


@pytest.fixture
def app(database_url: str, tmp_path: Path, empty_sqlite_database: Path):
    own_file = tmp_path / "test.sqlite3"
    if database_url == f"sqlite:///{own_file}":
        shutil.copyfile(empty_sqlite_database, own_file)  # this test's own empty database
    app = create_app(
        {
            "TESTING": True,
            "SEARCH_SYNC": "off",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            # nothing a test writes lands in the real instance folder
            "EVIDENCE_DIR": str(tmp_path / "evidence"),
            "CREDENTIALS_KEY_DIR": str(tmp_path / "credentials"),
            "MAIL_FILE_DIR": str(tmp_path / "mail"),
            # off for tests not about them (tests/test_rate_limits.py turns them on)
            "RATE_LIMITS_ENABLED": False,
            "REQUEST_LOG": False,
        }
    )
    if database_url != f"sqlite:///{own_file}":
        with app.app_context():
            empty_the_schema()
    yield app
    app.extensions["academy.search"].stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context for tests that call services directly."""
    with app.app_context():
        yield app


@pytest.fixture
def taxonomy(ctx):
    """The real taxonomy from ``seed/taxonomy.yaml``, as ``{kind: {slug: term}}``."""
    seed_taxonomy(Path(ctx.config["SEED_DIR"]))
    db.session.commit()
    return {
        kind: {term.slug: term for term in db.session.scalars(db.select(model))}
        for kind, model in TERM_MODELS.items()
    }


_numbers = itertools.count(1)


@pytest.fixture
def make_provider(ctx):
    def make(name: str | None = None, slug: str | None = None, **fields) -> Provider:
        number = next(_numbers)
        provider = Provider(
            name=name or f"Provider {number}", slug=slug or f"provider-{number}", **fields
        )
        db.session.add(provider)
        db.session.commit()
        return provider

    return make


@pytest.fixture
def make_course(ctx, taxonomy, make_provider):
    """Create a course; taxonomy is given by slug (``step=2, sectors=["education"]``)."""

    def make(
        title: str | None = None,
        *,
        provider: Provider | None = None,
        step: int = 1,
        sectors: tuple[str, ...] = (),
        professions: tuple[str, ...] = (),
        principles: tuple[str, ...] = (),
        delivery_mode: str | None = "in-person",
        region: str | None = "london",
        status: str = "published",
        **fields,
    ) -> Course:
        number = next(_numbers)
        steps = {term.number: term for term in taxonomy["steps"].values()}
        course = Course(
            title=title or f"Course {number}",
            slug=fields.pop("slug", f"course-{number}"),
            reference=fields.pop("reference", f"REF-{number}"),
            provider=provider or make_provider(),
            step=steps[step],
            sectors=[taxonomy["sectors"][s] for s in sectors],
            professions=[taxonomy["professions"][p] for p in professions],
            principles=[taxonomy["principles"][p] for p in principles],
            delivery_mode=taxonomy["delivery_modes"][delivery_mode] if delivery_mode else None,
            region=taxonomy["regions"][region] if region else None,
            status=status,
            published_at=utcnow() if status == "published" else None,
            **fields,
        )
        db.session.add(course)
        db.session.commit()
        return course

    return make


@pytest.fixture
def make_cohort(ctx):
    """Add a cohort whose sessions start ``days`` from now (negative: in the past)."""

    def make(
        course: Course,
        days: float = 30,
        *,
        session_days: tuple[float, ...] = (0,),
        capacity: int = 20,
        seats_taken: int = 0,
        online: bool = False,
    ) -> Cohort:
        start = utcnow() + timedelta(days=days)
        cohort = Cohort(
            course=course,
            capacity=capacity,
            seats_taken=seats_taken,
            is_online=online,
            location=None if online else "Training room 1, Leeds",
            enrolment_closes_at=start - timedelta(days=1),
            sessions=[
                CohortSession(
                    starts_at=start + timedelta(days=d),
                    ends_at=start + timedelta(days=d, hours=6),
                )
                for d in session_days
            ],
        )
        db.session.add(cohort)
        db.session.commit()
        return cohort

    return make


@pytest.fixture
def make_programme(ctx):
    def make(name: str, courses: list[Course], slug: str | None = None) -> Programme:
        programme = Programme(
            name=name,
            slug=slug or f"programme-{next(_numbers)}",
            modules=[
                ProgrammeModule(course=course, position=position)
                for position, course in enumerate(courses, start=1)
            ],
        )
        db.session.add(programme)
        db.session.commit()
        return programme

    return make


class QueryCounter:
    """Counts the SQL statements run while it is active."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """``with count_queries() as counter: ...`` then ``counter.count``."""

    @contextlib.contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def record(conn, cursor, statement, parameters, context, executemany):
            counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def shared_data() -> Path:
    """The folder of real-world test data beside the project; skips the test when absent."""
    if not (SHARED_DATA / "edx_courses.csv").exists():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def indexed(app):
    """Keep the search index in step inline after every commit, as the background worker would.

    Tests default to ``SEARCH_SYNC=off`` so that ones not about search do not pay for indexing.
    """
    sync = app.extensions["academy.search"]
    sync.mode = "inline"
    return sync


# --- Accounts, enrolment and mail (issue 4) ---------------------------------------------------

TEST_PASSWORD = "plum kettle rowing lantern"
_password_hashes: dict[str, str] = {}


@pytest.fixture
def make_user(ctx):
    """Create a confirmed account (``curator=True``, ``staff_of=provider`` for other roles).

    The Argon2 hash of each password is computed once per test session: hashing is slow on
    purpose, and many tests need many users.
    """
    import secrets

    from academy.accounts.models import ProviderMembership, User
    from academy.accounts.passwords import hash_password

    def make(
        email: str | None = None,
        *,
        name: str | None = None,
        password: str = TEST_PASSWORD,
        curator: bool = False,
        staff_of: Provider | None = None,
        admin: bool = False,
        confirmed: bool = True,
    ) -> User:
        number = next(_numbers)
        if password not in _password_hashes:
            _password_hashes[password] = hash_password(password)
        user = User(
            email=(email or f"learner{number}@example.org").lower(),
            name=name or f"Learner {number}",
            password_hash=_password_hashes[password],
            calendar_token=secrets.token_urlsafe(24),
            email_confirmed_at=utcnow() if confirmed else None,
            is_curator=curator,
        )
        if staff_of is not None:
            user.memberships.append(ProviderMembership(provider=staff_of, is_admin=admin))
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_entry(ctx):
    """``make_entry(user, title=..., completed=date(...), hours=..., **fields)``: a portfolio
    entry, self-recorded unless ``verified=True``."""
    from datetime import UTC, date, datetime

    from academy.portfolio.models import LearningRecordEntry

    def make(user, title: str | None = None, *, completed: date | None = None, **fields):
        completed = completed or date(2026, 6, 1)
        entry = LearningRecordEntry(
            user_id=user.id,
            title=title or f"Entry {next(_numbers)}",
            completed_at=datetime(completed.year, completed.month, completed.day, tzinfo=UTC),
            **fields,
        )
        db.session.add(entry)
        db.session.commit()
        return entry

    return make


@pytest.fixture
def make_evidence(ctx):
    """``make_evidence(entry, content=..., filename=...)``: an evidence file stored as is, without
    the upload checks (for tests about who may see files, not about which files are accepted)."""
    import hashlib

    from academy.portfolio.evidence_store import new_stored_name, path_for
    from academy.portfolio.models import EvidenceFile

    def make(entry, content: bytes = b"%PDF-1.4\n% certificate\n", filename="certificate.pdf"):
        evidence = EvidenceFile(
            entry_id=entry.id,
            user_id=entry.user_id,
            stored_name=new_stored_name(),
            filename=filename,
            content_type="application/pdf",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )
        db.session.add(evidence)
        db.session.commit()
        path_for(evidence).write_bytes(content)
        return evidence

    return make


@pytest.fixture
def login(app):
    """``login(client, user)``: give ``client`` a logged-in session without the slow form.

    It creates a real server-side session, exactly as the log-in page does.
    """
    from academy.accounts.security import start_session

    def log_in(client, user) -> str:
        with app.app_context():
            token = start_session(db.session.merge(user))
            db.session.commit()
        with client.session_transaction() as session:
            session.clear()
            session["_user_id"] = token
            session["_fresh"] = True
        return token

    return log_in


@pytest.fixture
def csrf(app):
    """``csrf(client)`` returns a valid CSRF token for ``client``'s session, for POSTs."""
    import secrets

    from itsdangerous import URLSafeTimedSerializer

    def token(client) -> str:
        with client.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)

    return token


@pytest.fixture
def mail_dir(app, tmp_path: Path) -> Path:
    """Mail is written as files here (no SMTP server configured)."""
    folder = tmp_path / "mail"
    app.config.update(MAIL_SERVER=None, MAIL_FILE_DIR=str(folder))
    return folder


class SMTPCatcher:
    """A real SMTP server (aiosmtpd) on a loopback port that keeps what it receives."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list = []
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    """An SMTP server the app is configured to use; ``.stop()``/``.start()`` to take it down."""
    catcher = SMTPCatcher(free_port())
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=catcher.port, MAIL_TIMEOUT=5)
    catcher.start()
    yield catcher
    catcher.stop()
