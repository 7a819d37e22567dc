"""The app the scan attacks: one account per role, and a loopback server that logs every 500.

Run by ``security/scan.py`` in child processes, configured like the app by the environment (a
fresh SQLite database in the scan's folder):

- ``python -m security.site prepare`` runs ``flask db upgrade``, ``flask seed`` and
  ``flask search sync`` (the real commands, in one process to save start-ups), then reads
  ``{"role": "password", ...}`` as JSON on standard input, creates the accounts and prints what
  the scan needs to know about them as JSON.
- ``python -m security.site serve PORT ERROR_LOG`` serves the app on 127.0.0.1:PORT, writing one
  JSON line per unhandled exception to ERROR_LOG. With ``ACADEMY_SCAN_SELFTEST=1`` it also mounts
  the deliberately vulnerable routes of ``security/selftest_app.py`` (never part of ``academy``).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

from flask import Flask, got_request_exception, request

#: the roles the scan logs in as, each with an account made here
ROLES = ("learner", "provider_staff", "provider_admin", "curator")
#: and one account with every role at once, so that one logged-in wapiti run reaches every page
EVERYONE = "everyone"
ACCOUNTS = (*ROLES, EVERYONE)


def selftest_enabled(environ=os.environ) -> bool:
    """True when the deliberately vulnerable routes should be mounted (the scan's self-test)."""
    return environ.get("ACADEMY_SCAN_SELFTEST", "").strip().lower() in ("1", "true", "yes")


def build_app(selftest: bool | None = None) -> Flask:
    """Return the app as ``wsgi.py`` builds it, plus the self-test routes when asked for."""
    from academy import create_app

    app = create_app()
    if selftest_enabled() if selftest is None else selftest:
        from security.selftest_app import bp

        app.register_blueprint(bp)
    return app


def create_accounts(passwords: dict[str, str]) -> dict:
    """Create one confirmed account per role (inside an app context) and commit.

    Staff and admin join the seeded provider with the most upcoming cohorts; the learner takes a
    place on one of its cohorts, so pages about an enrolment exist to be crawled. ``everyone`` is
    a curator, an admin of that provider and enrolled too.
    """
    from sqlalchemy import func, select

    from academy.accounts import services as accounts
    from academy.accounts.models import ProviderMembership
    from academy.catalogue.models import Cohort, CohortSession, Course
    from academy.db_types import utcnow
    from academy.enrolment import services as enrolment
    from academy.extensions import db
    from academy.providers.models import Provider

    provider = db.session.scalar(
        select(Provider)
        .join(Course, Course.provider_id == Provider.id)
        .join(Cohort, Cohort.course_id == Course.id)
        .join(CohortSession, CohortSession.cohort_id == Cohort.id)
        .where(Course.status == "published", CohortSession.starts_at > utcnow())
        .group_by(Provider.id)
        .order_by(func.count(func.distinct(Cohort.id)).desc(), Provider.id)
        .limit(1)
    )
    if provider is None:
        raise SystemExit("The seeded database has no provider with upcoming cohorts.")
    users = {}
    for role in ACCOUNTS:
        users[role] = accounts.create_user(
            f"Scan {role.replace('_', ' ').title()}",
            f"scan-{role.replace('_', '-')}@example.org",
            passwords[role],
            curator=role in ("curator", EVERYONE),
        )
    db.session.add(ProviderMembership(user=users["provider_staff"], provider=provider))
    for role in ("provider_admin", EVERYONE):
        db.session.add(ProviderMembership(user=users[role], provider=provider, is_admin=True))
    cohort_ids = db.session.scalars(
        select(Cohort.id)
        .join(Course, Course.id == Cohort.course_id)
        .where(Course.provider_id == provider.id, Course.status == "published")
        .order_by(Cohort.id)
    ).all()
    for role in ("learner", EVERYONE):
        for cohort_id in cohort_ids:
            try:
                enrolment.enrol(users[role], cohort_id)
            except enrolment.EnrolmentError:
                continue
            break
    db.session.commit()
    return {
        "provider": provider.slug,
        "emails": {role: user.email for role, user in users.items()},
    }


def serve(app: Flask, port: int, error_log: Path) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` (threaded) until killed, logging each 500 cause."""
    from werkzeug.serving import make_server

    lock = threading.Lock()

    def record(sender, exception, **extra) -> None:
        line = {
            "method": request.method,
            "path": request.full_path.rstrip("?"),
            "endpoint": request.endpoint,
            "error": f"{type(exception).__name__}: {exception}"[:500],
        }
        with lock, error_log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")

    got_request_exception.connect(record, app, weak=False)
    server = make_server("127.0.0.1", port, app, threaded=True)
    print(f"serving on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


def prepare(app: Flask, passwords: dict[str, str]) -> dict:
    """Migrate, seed and index the configured database, then create the accounts."""
    runner = app.test_cli_runner()
    for command in (["db", "upgrade"], ["seed"], ["search", "sync"]):
        result = runner.invoke(args=command)
        print(f"flask {' '.join(command)}: {result.output.strip()}", file=sys.stderr)
        if result.exit_code != 0:
            raise SystemExit(f"flask {' '.join(command)} failed: {result.exception!r}")
    with app.app_context():
        return create_accounts(passwords)


def main(argv: list[str]) -> int:
    if argv[:1] == ["prepare"]:
        print(json.dumps(prepare(build_app(), json.loads(sys.stdin.read()))))
        return 0
    if argv[:1] == ["serve"] and len(argv) == 3:
        app = build_app()
        # uploads waiting for confirmation go under the app's instance folder: keep them in
        # the scan's own folder, not the working tree's instance/
        app.instance_path = os.environ.get("SCAN_INSTANCE_DIR", app.instance_path)
        serve(app, int(argv[1]), Path(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
