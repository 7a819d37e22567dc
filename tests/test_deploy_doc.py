"""``docs/deploy.md``, followed literally.

The blocks marked ``sh runnable`` run in order, as written, each in bash with the document's
environment file loaded (its ``academy.env`` block, with the database, the key and the folders
pointed at throwaway ones); ``sh runnable-background`` blocks are started and left running (the
follower and gunicorn) until the end. Then the site must answer ``/healthz`` and a page.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url

from academy import PROJECT_ROOT
from academy.config import normalise_database_url
from tests.conftest import free_port

DOC = PROJECT_ROOT / "docs" / "deploy.md"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(info: str) -> list[str]:
    return [body for found_info, body in FENCE.findall(DOC.read_text()) if found_info == info]


def runnable_steps() -> list[tuple[str, str]]:
    """(kind, script) for every runnable block, in document order."""
    return [
        (info, body)
        for info, body in FENCE.findall(DOC.read_text())
        if info in ("sh runnable", "sh runnable-background")
    ]


def test_the_document_has_what_the_brief_asks_for():
    text_ = DOC.read_text()
    for heading in (
        "## Single server",
        "## Several servers",
        "### Add a server",
        "## Back up and restore",
        "## Rebuild an index",
        "## Rotate the credential signing key",
        "## Rotate SECRET_KEY",
        "## systemd units",
    ):
        assert heading in text_
    assert "flask credentials rotate-key" in text_
    assert len(blocks("ini academy.env")) == 1
    kinds = [kind for kind, _ in runnable_steps()]
    assert kinds.count("sh runnable-background") == 2 and kinds.count("sh runnable") >= 6


@pytest.fixture
def throwaway_database():
    """A new PostgreSQL database when the role may create one, else the test database emptied
    (CI's role may not create databases); everything is dropped afterwards."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith(("postgresql", "postgres")):
        pytest.skip("docs/deploy.md deploys on PostgreSQL: set TEST_DATABASE_URL to follow it")
    base = make_url(url)
    name = f"{base.database}_deploy_{secrets.token_hex(4)}"
    admin = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    created = False
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        created = True
        target = base.set(database=name).render_as_string(hide_password=False)
    except Exception:
        target = url
        _drop_every_table(url)
    try:
        yield target
    finally:
        if created:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        else:
            _drop_every_table(url)
        admin.dispose()


def _drop_every_table(url: str) -> None:
    engine = create_engine(normalise_database_url(url))
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)
    engine.dispose()


def environment_file(path: Path, overrides: dict[str, str]) -> Path:
    """The document's environment file, with ``overrides`` replacing its values."""
    lines = []
    for line in blocks("ini academy.env")[0].splitlines():
        key = line.split("=", 1)[0]
        if not line.startswith("#") and "=" in line and key in overrides:
            line = f"{key}={overrides.pop(key)}"
        lines.append(line)
    lines += [f"{key}={value}" for key, value in overrides.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def test_following_the_deploy_document_gives_a_working_site(throwaway_database, tmp_path):
    if not (PROJECT_ROOT / ".venv" / "bin" / "gunicorn").exists():
        pytest.skip("the document runs .venv/bin/…: install the project into .venv first")
    port = free_port()
    env_file = environment_file(
        tmp_path / "academy.env",
        {
            "DATABASE_URL": throwaway_database,
            "SECRET_KEY": secrets.token_hex(32),
            "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "1",  # one is enough to show it works, and boots fastest
            "BACKUP_DIR": str(tmp_path / "backups"),
            "ACADEMY_MAIL_SERVER": "",  # never reach for a real mail server from a test
            "ACADEMY_MAIL_FILE_DIR": str(tmp_path / "mail"),
        },
    )
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ACADEMY_", "GUNICORN_", "FLASK_"))
        and key not in ("DATABASE_URL", "SECRET_KEY", "SEARCH_INDEX_DIR")
    }
    prelude = f"set -euo pipefail\nset -a\n. '{env_file}'\nset +a\n"
    base_url = f"http://127.0.0.1:{port}"
    background: list[subprocess.Popen] = []
    try:
        for kind, script in runnable_steps():
            if kind == "sh runnable-background":
                log = open(tmp_path / f"background-{len(background)}.log", "wb")  # noqa: SIM115
                background.append(
                    subprocess.Popen(
                        ["bash", "-c", prelude + "exec " + script.strip()],
                        cwd=PROJECT_ROOT,
                        env=environ,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
                log.close()
                continue
            if background:
                wait_until_healthy(base_url, background, tmp_path)
            done = subprocess.run(
                ["bash", "-c", prelude + script],
                cwd=PROJECT_ROOT,
                env=environ,
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert done.returncode == 0, f"{script}\n{done.stdout}\n{done.stderr}"
        # After the backup, the restore and the rebuild, the site still works.
        wait_until_healthy(base_url, background, tmp_path)
        health = requests.get(base_url + "/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["database"] == "ok"
        page = requests.get(base_url + "/courses?q=trauma", timeout=10)
        assert page.status_code == 200 and "course-card" in page.text
        assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert (tmp_path / "backups" / "academy.dump").stat().st_size > 0
    finally:
        for process in background:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)
        for process in background:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def wait_until_healthy(base_url: str, processes, logs: Path, deadline: float = 60.0) -> None:
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if any(process.poll() is not None for process in processes):
            break
        try:
            if requests.get(base_url + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass  # gunicorn listens before its workers have loaded the app
        time.sleep(0.2)
    output = "\n".join(p.read_text(errors="replace")[-2000:] for p in logs.glob("*.log"))
    raise AssertionError(f"the site did not become healthy:\n{output}")
