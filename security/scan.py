"""``make scan``: attack a freshly seeded copy of the app with sqlmap and wapiti, run bandit, and
fail on any finding. ``make scan-selftest`` (``--selftest``) proves the scan sees something.

The steps, each printed as it runs:

1. A fresh SQLite database in the output folder: ``flask db upgrade``, ``flask seed``,
   ``flask search sync``, then one account per role (``python -m security.site accounts``).
2. The app on a free loopback port (``python -m security.site serve``), logging every 500.
3. Log in once per role and walk the site as each (``security/crawl.py``): every form and every
   link with a query string becomes a target.
4. bandit over ``academy/``; sqlmap at level 3 against every target, with that role's cookie and
   a fresh CSRF token per request; wapiti over the whole site, anonymous and as each role.
5. Check that every role is still logged in (an attack that logged a role out would have
   silently turned the rest of its scan anonymous), and read the server's 500s.

Findings: anything sqlmap calls injectable (or its heuristics call a possible injection, XSS or
file inclusion), every wapiti vulnerability and anomaly, every bandit result, every 500, and a
role that lost its session. The summary lists them; the exit status is 1 when there is any.

With ``--selftest`` the app also serves the deliberately vulnerable ``/_selftest/vulnerable``
(``security/selftest_app.py``), only its targets are attacked, and bandit also reads that file;
the run succeeds only if each tool reports that route (or file) and so fails the ordinary scan.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

from security import crawl, tools
from security.site import ACCOUNTS, EVERYONE, ROLES, build_app

ROOT = Path(__file__).resolve().parent.parent
SCAN_BIN = ROOT / ".venv-scan" / "bin"
SELFTEST_FILE = "security/selftest_app.py"
SELFTEST_PATH = "/_selftest/vulnerable"
HEADERS = ("User-Agent", "Referer")


def say(message: str) -> None:
    print(f"[scan {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def site_environment(work: Path, selftest: bool) -> dict[str, str]:
    """The environment of every app process: all state under ``work``, log-in limits raised."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ACADEMY_") and key not in ("DATABASE_URL", "SEARCH_INDEX_DIR")
    }
    env.update(
        FLASK_APP="wsgi",
        DATABASE_URL=f"sqlite:///{work / 'academy.sqlite3'}",
        SECRET_KEY=secrets.token_hex(32),
        SEARCH_INDEX_DIR=str(work / "search-index"),
        ACADEMY_EVIDENCE_DIR=str(work / "evidence"),
        ACADEMY_CREDENTIALS_KEY_DIR=str(work / "credentials"),
        ACADEMY_MAIL_FILE_DIR=str(work / "mail"),
        SCAN_INSTANCE_DIR=str(work / "instance"),
        # sqlmap and wapiti send thousands of failed log-ins from one address; the scan's own
        # accounts log in once each, but the limit would hide the log-in form's code behind a 429
        ACADEMY_LOGIN_FAILURES_PER_ACCOUNT="1000000",
        ACADEMY_LOGIN_FAILURES_PER_ADDRESS="1000000",
        # likewise the request rate limits (tested on their own in tests/test_rate_limits.py):
        # a scanner's answers should come from the code, not from a 429
        ACADEMY_RATE_LIMITS_ENABLED="0",
        PYTHONPATH=str(ROOT),
    )
    if selftest:
        env["ACADEMY_SCAN_SELFTEST"] = "1"
    return env


def prepare_site(work: Path, env: dict[str, str], passwords: dict[str, str]) -> dict:
    """Migrate, seed and index a fresh database and create the accounts (one per role)."""
    say("flask db upgrade, flask seed, flask search sync; one account per role")
    result = subprocess.run(  # nosec B603  # fixed arguments, no shell
        [sys.executable, "-m", "security.site", "prepare"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        input=json.dumps(passwords),
    )
    (work / "prepare.log").write_text(result.stderr, encoding="utf-8")
    if result.returncode != 0:
        raise SystemExit(f"preparing the app failed:\n{result.stderr}")
    return json.loads(result.stdout)


def start_server(work: Path, env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    """Start the app on a free loopback port; return the process and its base URL."""
    port = free_port()
    log = (work / "server.log").open("w")
    server = subprocess.Popen(  # nosec B603  # fixed arguments, no shell
        [sys.executable, "-m", "security.site", "serve", str(port), str(work / "errors.jsonl")],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if server.poll() is not None:
            raise SystemExit(f"the app did not start: see {work / 'server.log'}")
        try:
            requests.get(base + "/", timeout=2)
            return server, base
        except requests.ConnectionError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("the app did not answer within 30 seconds")


def cookie_header(http: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def excluded_url_patterns(base: str, app) -> list[str]:
    """Wapiti exclusions: the excluded POST routes as wildcard URLs (``<int:id>`` becomes ``*``)."""
    import re

    patterns = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in crawl.EXCLUDED_POSTS:
            patterns.append(base + re.sub(r"<[^>]+>", "*", rule.rule))
    return sorted(set(patterns))


def csrf_refused(target: crawl.Target, cookie: str) -> str:
    """Why the form's own submission does not get past its CSRF check ("" when it does).

    A form whose token is refused would let sqlmap test only the refusal page, and pass.
    """
    if target.method != "POST" or not target.csrf:
        return ""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    response = requests.post(
        target.url, data=target.data, headers=headers, allow_redirects=False, timeout=30
    )
    if response.status_code == 400 and "CSRF token" in response.text:
        return "the form's CSRF token was refused, so sqlmap could not reach its code"
    return ""


def run_sqlmap_all(
    targets: list[crawl.Target], cookies: dict[str, str], out: Path, workers: int, thorough: bool
) -> list[tools.Finding]:
    sqlmap_dir = out / "sqlmap"
    sqlmap_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    done = 0

    def one(numbered: tuple[int, crawl.Target]) -> list[tools.Finding]:
        nonlocal done
        number, target = numbered
        folder = sqlmap_dir / f"{number:03d}"
        refused = csrf_refused(target, cookies.get(target.role, ""))
        if refused:
            done += 1
            say(f"sqlmap {done}/{len(targets)} NOT REACHED {target.describe()}")
            return [tools.Finding("scan", target.describe(), refused)]
        findings = tools.run_sqlmap(
            SCAN_BIN / "sqlmap",
            target,
            cookies.get(target.role, ""),
            folder,
            sqlmap_dir / f"{number:03d}.log",
            thorough,
        )
        done += 1
        mark = "FOUND " if findings else ""
        say(f"sqlmap {done}/{len(targets)} {mark}{target.describe()}")
        return findings

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, enumerate(targets, start=1)))
    say(f"sqlmap: {len(targets)} targets in {time.monotonic() - started:.0f} s")
    return [finding for found in results for finding in found]


def run_wapiti_all(
    base: str,
    app,
    cookies: dict[str, str],
    out: Path,
    selftest: bool,
    seconds: int,
    removed: set[str],
) -> list[tools.Finding]:
    """Wapiti anonymous and logged in as ``everyone`` (every role at once, so one crawl reaches
    every page any role can see), side by side; each crawls for ``seconds``, gives each XSS
    module twice that, and each other module ``seconds``."""
    wapiti_dir = out / "wapiti"
    wapiti_dir.mkdir(parents=True, exist_ok=True)
    excluded = excluded_url_patterns(base, app)

    def run(role: str) -> list[tools.Finding]:
        cookie_file = None
        if role != "anonymous":
            cookie_file = wapiti_dir / f"{role}.cookies.json"
            cookie_file.write_text(json.dumps(wapiti_cookies(base, cookies[role])))
        found: list[tools.Finding] = []
        for number, modules in enumerate(tools.WAPITI_PHASES):
            name = f"{role}.{number + 1}"
            report = wapiti_dir / f"{name}.json"
            command = tools.wapiti_command(
                SCAN_BIN / "wapiti",
                base + (SELFTEST_PATH if selftest else "/"),
                report,
                modules=modules,
                session=wapiti_dir / f"{role}.session",
                first=number == 0,
                cookie_file=cookie_file,
                excluded=excluded,
                scan_seconds=seconds,
                attack_seconds=seconds * 2 if number == 0 else seconds,
                scope="page" if selftest else "domain",
                removed=tuple(removed),
            )
            for finding in tools.run_wapiti(command, report, wapiti_dir / f"{name}.log"):
                finding = tools.Finding(finding.tool, f"{finding.where} as {role}", finding.what)
                if finding not in found:  # a later phase's report repeats the earlier ones
                    found.append(finding)
        return found

    roles = ["anonymous"] if selftest else ["anonymous", EVERYONE]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(roles)) as pool:
        results = list(pool.map(run, roles))
    for role, findings in zip(roles, results, strict=True):
        say(f"wapiti as {role}: {len(findings)} findings")
    say(f"wapiti: {len(roles)} roles in {time.monotonic() - started:.0f} s")
    return [finding for findings in results for finding in findings]


def wapiti_cookies(base: str, header: str) -> dict:
    """A wapiti JSON cookie file holding the cookies of ``header`` for the host of ``base``."""
    host = urlsplit(base).hostname
    jar = {}
    for part in header.split("; "):
        name, _, value = part.partition("=")
        jar[name] = {"value": value, "version": 0, "expires": None, "secure": False, "port": None}
    return {f".{host}": {"/": jar}} | {host: {"/": jar}}


def server_errors(work: Path) -> list[tools.Finding]:
    path = work / "errors.jsonl"
    if not path.exists():
        return []
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        error = json.loads(line)
        key = (error["endpoint"], error["error"].split(":")[0])
        first_line = error["error"].splitlines()[0]
        where = f"{error['method']} {error['path']}"
        found.setdefault(key, tools.Finding("server", where, "500: " + first_line))
    return list(found.values())


def versions() -> dict[str, str]:
    """The version of each scanner, as it reports it."""
    found = {}
    for name in ("sqlmap", "wapiti", "bandit"):
        result = subprocess.run(  # nosec B603  # fixed arguments, no shell
            [str(SCAN_BIN / name), "--version"], capture_output=True, text=True, timeout=60
        )
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        found[name] = lines[-1].strip() if name != "bandit" else lines[0].strip()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--selftest", action="store_true", help="attack only the vulnerable route")
    parser.add_argument(
        "--thorough",
        action="store_true",
        help="sqlmap's level-3 battery on every parameter, not only where a heuristic fires "
        "(about 30 minutes on two cores)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "scan", help="output folder")
    parser.add_argument("--workers", type=int, default=4, help="sqlmap processes at once")
    parser.add_argument(
        "--wapiti-seconds",
        type=int,
        default=None,
        help="bound on wapiti's crawl and on each of its modules, the XSS modules twice this "
        "(a role takes at most 9 times this); default 15, or 300 with --thorough",
    )
    parser.add_argument(
        "--only", default="bandit,sqlmap,wapiti", help="comma-separated subset of the tools"
    )
    parser.add_argument(
        "--match", default="", help="attack only targets whose description contains this text"
    )
    args = parser.parse_args(argv)
    if args.wapiti_seconds is None:
        args.wapiti_seconds = 300 if args.thorough else 15
    tools_wanted = set(args.only.split(","))
    for name in ("sqlmap", "wapiti", "bandit"):
        if name in tools_wanted and not (SCAN_BIN / name).exists():
            raise SystemExit(f"{SCAN_BIN / name} is missing: run `make scan-install`")

    out = args.out.resolve() / ("selftest" if args.selftest else "site")
    shutil.rmtree(out, ignore_errors=True)
    work = out / "app"
    work.mkdir(parents=True)
    started = time.monotonic()
    findings: list[tools.Finding] = []

    bandit_paths = ["academy"] + ([SELFTEST_FILE] if args.selftest else [])
    bandit = None
    pool = ThreadPoolExecutor(max_workers=2)
    if "bandit" in tools_wanted:
        say("bandit " + " ".join(bandit_paths))
        bandit = pool.submit(
            tools.run_bandit,
            SCAN_BIN / "bandit",
            bandit_paths,
            ROOT / "pyproject.toml",
            out / "bandit.json",
        )

    env = site_environment(work, args.selftest)
    passwords = {role: secrets.token_urlsafe(18) for role in ACCOUNTS}
    accounts = prepare_site(work, env, passwords)
    os.environ.update({k: v for k, v in env.items() if k.startswith("ACADEMY_SCAN")})
    app = build_app(selftest=args.selftest)
    server, base = start_server(work, env)
    try:
        say(f"app at {base}; provider staff and admin belong to {accounts['provider']}")
        sessions = {"anonymous": requests.Session()}
        for role in ACCOUNTS:
            sessions[role] = crawl.log_in(base, accounts["emails"][role], passwords[role])
        # the headers level 3 adds, tested once: the same code reads them for every role
        targets = [crawl.Target("anonymous", "GET", "main.home", base + "/", test=HEADERS)]
        if args.selftest:  # the vulnerable route is public: one anonymous walk finds its forms
            targets, roles, start = [], ("anonymous",), SELFTEST_PATH
        else:
            roles, start = ("anonymous", *ROLES), ""
        crawlers = []
        for role in roles:
            crawler = crawl.Crawler(base, app.url_map, sessions[role], role, start)
            crawlers.append(crawler)
            found = crawler.crawl()
            say(f"crawled {crawler.pages} pages as {role}: {len(found)} targets")
            targets += found
            findings += [tools.Finding("server", e, "500 while crawling") for e in crawler.errors]
        targets = crawl.assign(targets)
        targets = [t for t in targets if args.match in t.describe()]
        (out / "targets.txt").write_text("\n".join(t.describe() for t in targets) + "\n")
        cookies = {role: cookie_header(http) for role, http in sessions.items()}
        say(f"{len(targets)} targets for sqlmap (listed in {out / 'targets.txt'})")

        # wapiti is bounded by time, not work: it runs beside sqlmap rather than after it
        wapiti = None
        if "wapiti" in tools_wanted:
            removed = crawl.navigation_parameters(crawlers)
            say(f"wapiti leaves these link parameters to sqlmap: {', '.join(sorted(removed))}")
            wapiti = pool.submit(
                run_wapiti_all,
                base,
                app,
                cookies,
                out,
                args.selftest,
                args.wapiti_seconds,
                removed,
            )
        if "sqlmap" in tools_wanted:
            findings += run_sqlmap_all(targets, cookies, out, args.workers, args.thorough)
        if wapiti is not None:
            findings += wapiti.result()

        for role in ACCOUNTS:
            try:
                crawl.check_logged_in(base, sessions[role], accounts["emails"][role])
            except RuntimeError as error:
                lost = f"{error}: the rest of its scan ran logged out"
                findings.append(tools.Finding("scan", role, lost))
    finally:
        server.terminate()
        server.wait(timeout=30)
    findings += server_errors(work)
    if bandit is not None:
        findings += bandit.result()
    pool.shutdown()

    elapsed = time.monotonic() - started
    summary = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "selftest": args.selftest,
        "seconds": round(elapsed),
        "versions": versions(),
        "targets": len(targets),
        "findings": [vars(f) for f in findings],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print()
    print(f"Scan summary ({summary['date']}, {elapsed:.0f} s, {len(targets)} sqlmap targets)")
    for name, version in summary["versions"].items():
        print(f"  {name}: {version}")
    for finding in findings:
        print(f"  FINDING {finding}")
    print(f"  {len(findings)} findings; reports in {out}")
    if args.selftest:
        return selftest_verdict(findings, tools_wanted)
    return 1 if findings else 0


def selftest_verdict(findings: list[tools.Finding], tools_wanted: set[str]) -> int:
    """0 when each tool run reported the vulnerable route (or file), and the server's log has a
    500 from it; else 1."""
    expected = {
        "sqlmap": ("GET", "POST"),  # both the query parameter and the CSRF-protected form
        "wapiti": ("cross site scripting",),
        "bandit": (SELFTEST_FILE,),
        "server": ("500",),  # the ORDER BY parameter, whichever tool sent the odd value
    }
    missing = []
    for tool in sorted(tools_wanted & {"sqlmap", "wapiti", "bandit"}) + ["server"]:
        theirs = [f for f in findings if f.tool == tool]
        for word in expected[tool]:
            if tool == "bandit":
                hit = any(f.where.startswith(word) for f in theirs)
            elif tool == "sqlmap":
                hit = any(f.where.startswith(f"{word} {SELFTEST_PATH}") for f in theirs)
            else:
                hit = any(SELFTEST_PATH in f.where and word in f.what.lower() for f in theirs)
            if not hit:
                missing.append(f"{tool} did not report {word} on the vulnerable route")
    print()
    if missing:
        print("SELF-TEST FAILED: the scan would miss a known vulnerability")
        for line in missing:
            print("  " + line)
        return 1
    print(f"SELF-TEST PASSED: the scan fails on {SELFTEST_PATH} and names it")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
