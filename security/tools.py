"""Run sqlmap, wapiti and bandit, and read their reports into findings.

Each ``run_*`` function starts one tool and each ``read_*`` function turns what it wrote into a
list of :class:`Finding`. The readers are plain functions of files and text, so
``tests/test_scan.py`` checks them on small samples without starting anything.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from security.crawl import Target

#: sqlmap: boolean-based blind and error-based; docs/security.md says why not UNION (U), stacked
#: queries (S), time-based blind (T) or inline queries (Q)
SQLMAP_TECHNIQUES = "BE"
SQLMAP_LEVEL = 3
#: level-3 tests left out: variants the plain "AND boolean-based blind" test already covers on
#: SQLite (the JSON and subquery forms), HAVING (this app writes no raw GROUP BY) and DUAL (Oracle
#: and MySQL only). They are most of level 3's cost: about 98 requests a parameter instead of 216.
SQLMAP_TEST_SKIP = r"HAVING boolean|\(JSON\)|subquery|DUAL"
#: wapiti modules for a server-rendered Flask app (docs/security.md says why these): reflected and
#: stored cross-site scripting, open redirects (``next``), forms without a working CSRF token,
#: path traversal and header (CRLF) injection. SQL injection is sqlmap's job. Two runs share one
#: crawl: cross-site scripting first, with more time (it has the most to do, and the stored-XSS
#: module needs the reflected one's injections in the same run); then the rest.
# wapiti's csrf module is left out: it compares a form sent with the token the crawler saw
# against one sent with a wrong token, and once the crawl's session has been given a new token
# (any log-in or log-out along the way) both answers are the same 400 page, which it reports as
# an unchecked token (seen on /login and /register in turn). The CSRF check on every form is
# held by the test suite instead (tests/test_kept_forms.py sends stale and missing tokens to
# every form).
WAPITI_PHASES = (("xss", "permanentxss"), ("redirect", "file", "crlf"))


@dataclass(frozen=True)
class Finding:
    tool: str
    where: str  # a URL, route or file:line
    what: str

    def __str__(self) -> str:
        return f"[{self.tool}] {self.where}: {self.what}"


# --- sqlmap ------------------------------------------------------------------------------------

_PARAMETER = r"(?P<place>[\w-]+) parameter '(?P<param>[^']+)'"
SQLMAP_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        # a confirmed injection point: "GET parameter 'name' is vulnerable. Do you want to ..."
        _PARAMETER + " is vulnerable",
        # a confirmed technique: "GET parameter 'name' is 'SQLite ... error-based ...' injectable"
        # ("appears to be ... injectable" is not a finding: sqlmap then checks it, and a false
        # positive ends "does not seem to be injectable")
        _PARAMETER + " is '[^']+' injectable",
        # the heuristics: a database error in the page, unescaped reflection, file inclusion
        r"heuristic \((?:basic|XSS|FI)\) test shows that " + _PARAMETER + " might be [\\w -]+",
    )
)


def sqlmap_command(
    sqlmap: Path,
    target: Target,
    cookie: str,
    output_dir: Path,
    *,
    thorough: bool = False,
    fresh_csrf: bool = False,
) -> list[str]:
    """The sqlmap command line for one target.

    By default ``--smart``: every parameter gets sqlmap's heuristic probes (a string of quotes
    and brackets that breaks any SQL it is pasted into, plus the XSS and file-inclusion probes),
    and the level-3 battery runs wherever one of them fires. ``thorough`` runs the battery on
    every parameter (about 100 requests each; see docs/security.md for the cost).

    A form's CSRF token goes as the page gave it (valid for the whole session), unless
    ``fresh_csrf``: then sqlmap fetches a new one from the form's page before every request,
    which doubles the requests.
    """
    command = [
        str(sqlmap),
        "-u",
        target.url,
        "--batch",
        f"--level={SQLMAP_LEVEL}",
        "--risk=1",
        f"--technique={SQLMAP_TECHNIQUES}",
        "--timeout=20",
        "--retries=1",
        # keep the role's cookie as it is (a flashed message would otherwise replace it), and
        # after a POST answered with a redirect, fetch the new page as a browser does
        "--drop-set-cookie",
        "--answers=resend=N",
        "--disable-coloring",
        f"--output-dir={output_dir}",
        # sqlmap would otherwise guess the database from each page; this app runs on one
        "--dbms=SQLite",
        f"--test-skip={SQLMAP_TEST_SKIP}",
        # the Host header is the server's to check, and the session cookie is signed: neither
        # reaches SQL; everything else named in the target is tested
        "-p",
        ",".join(target.test or target.params),
        "--skip=Host",
        "--param-exclude=^(session|csrf_token)$",
    ]
    if not thorough:
        command.append("--smart")
    if cookie:
        command.append(f"--cookie={cookie}")
    if target.method == "POST":
        command.append(f"--data={target.data}")
    if target.csrf and fresh_csrf:
        command += ["--csrf-token=csrf_token", f"--csrf-url={target.page}"]
    return command


def read_sqlmap(output: str, target: Target) -> list[Finding]:
    """The findings in sqlmap's console ``output`` for ``target``: one per parameter and kind."""
    found: dict[tuple, Finding] = {}
    for kind, pattern in enumerate(SQLMAP_PATTERNS):
        for match in pattern.finditer(output):
            key = (match["place"], match["param"], kind)
            found.setdefault(key, Finding("sqlmap", target.describe(), match.group(0)))
    if not found and "sqlmap identified the following injection point" in output:
        found[()] = Finding("sqlmap", target.describe(), "injection point identified")
    return list(found.values())


def run_sqlmap(
    sqlmap: Path, target: Target, cookie: str, output_dir: Path, log: Path, thorough: bool
) -> list[Finding]:
    """Run sqlmap against one target; its console output goes to ``log``."""
    command = sqlmap_command(sqlmap, target, cookie, output_dir, thorough=thorough)
    result = subprocess.run(  # nosec B603  # a fixed program and arguments, no shell
        command, capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL
    )
    log.write_text(" ".join(command) + "\n\n" + result.stdout + result.stderr, encoding="utf-8")
    findings = read_sqlmap(result.stdout, target)
    if result.returncode != 0 and not findings:
        findings.append(
            Finding("sqlmap", target.describe(), f"sqlmap failed ({result.returncode}): see {log}")
        )
    return findings


# --- wapiti ------------------------------------------------------------------------------------


def wapiti_command(
    wapiti: Path,
    base: str,
    report: Path,
    *,
    modules: tuple[str, ...],
    session: Path,
    first: bool,
    cookie_file: Path | None,
    excluded: list[str],
    scan_seconds: int,
    attack_seconds: int,
    scope: str = "domain",
    removed: tuple[str, ...] = (),
) -> list[str]:
    """The wapiti command line for one phase: the ``first`` crawls the site from ``base`` into a
    fresh ``session``; later ones attack what that crawl found."""
    command = [
        str(wapiti),
        "-u",
        base,
        "--scope",
        scope,
        "-m",
        ",".join(modules),
        "-f",
        "json",
        "-o",
        str(report),
        "--store-session",
        str(session),
        *(["--flush-session"] if first else ["--skip-crawl"]),
        "--max-scan-time",
        str(scan_seconds),
        "--max-attack-time",
        str(attack_seconds),
        # a form or link shape with two or more fields is attacked once, not once per copy
        "-S",
        "paranoid",
        "--tasks",
        "4",
        "--timeout",
        "20",
        "--no-bugreport",
        # modules that are not run still resolve their endpoints when loaded: keep all of it on
        # this machine
        "--dns-endpoint",
        "localhost",
        "--endpoint",
        "http://127.0.0.1:9/",
        "-v",
        "1",
    ]
    for url in excluded:
        command += ["-x", url]
    for name in sorted(removed):
        command += ["-r", name]
    if cookie_file is not None:
        command += ["-c", str(cookie_file)]
    return command


def read_wapiti(report: dict) -> list[Finding]:
    """The findings in a wapiti JSON report: every vulnerability, and every anomaly (a 500, a
    timeout) since no input may produce one."""
    found: list[Finding] = []
    for section in ("vulnerabilities", "anomalies"):
        for kind, items in (report.get(section) or {}).items():
            for item in items:
                where = f"{item.get('method', 'GET')} {item.get('path', '?')}"
                detail = item.get("info", "").strip().splitlines()[:1]
                finding = Finding("wapiti", where, f"{kind}: {' '.join(detail)}")
                if finding not in found:  # the same attack on two copies of one form
                    found.append(finding)
    return found


def run_wapiti(command: list[str], report: Path, log: Path) -> list[Finding]:
    """Run one wapiti scan; :return: its findings (a run without a report is a finding too)."""
    result = subprocess.run(  # nosec B603  # a fixed program and arguments, no shell
        command, capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL
    )
    log.write_text(" ".join(command) + "\n\n" + result.stdout + result.stderr, encoding="utf-8")
    if not report.exists():
        return [Finding("wapiti", command[2], f"wapiti wrote no report ({result.returncode})")]
    return read_wapiti(json.loads(report.read_text(encoding="utf-8")))


# --- bandit ------------------------------------------------------------------------------------


def read_bandit(report: dict) -> list[Finding]:
    """The findings in bandit's JSON report (every result, and every file it could not read)."""
    found = [
        Finding(
            "bandit",
            f"{result['filename'].removeprefix('./')}:{result['line_number']}",
            f"{result['test_id']} {result['issue_text']} "
            f"(severity {result['issue_severity']}, confidence {result['issue_confidence']})",
        )
        for result in report.get("results", [])
    ]
    found += [
        Finding("bandit", error.get("filename", "?"), f"could not scan: {error.get('reason')}")
        for error in report.get("errors", [])
    ]
    return found


def run_bandit(bandit: Path, paths: list[str], config: Path, report: Path) -> list[Finding]:
    """Run bandit over ``paths`` with the project's configuration."""
    command = [str(bandit), "-c", str(config), "-r", *paths, "-f", "json", "-o", str(report), "-q"]
    result = subprocess.run(  # nosec B603  # a fixed program and arguments, no shell
        command, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
    )
    if not report.exists():
        return [Finding("bandit", " ".join(paths), f"bandit failed: {result.stderr.strip()}")]
    return read_bandit(json.loads(report.read_text(encoding="utf-8")))
