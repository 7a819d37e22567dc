"""Find what to attack: log in as each role, walk the site, and collect every form and query.

The walk starts from ``/`` and from every route in ``app.url_map`` that takes no argument, so a
route added tomorrow is visited without editing this file; from there it follows every link and
redirect on this host. Each URL is matched back to its endpoint with the app's own URL map.
Pages with the same endpoint and the same query parameter names count as one *shape*: a few of
each are visited (enough to find the forms on, say, a course page) rather than all 300 courses.

A target is one form, or one link with a query string, seen by one role. :func:`assign` then gives
each parameter of each endpoint to exactly one target, the first that has it (roles in the order
anonymous, learner, provider staff, provider admin, curator): a field that several roles see (the
profile form, the course search) is the same code path for all of them, and testing it once is
what keeps sqlmap at level 3 inside the time budget.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map

#: POST endpoints never attacked (nor submitted by the crawler), and why
EXCLUDED_POSTS = {
    "accounts.logout": "ends the very session the scan is using",
    "enrolment.withdraw": "gives up the learner's place, removing the enrolment pages scanned",
    "manage.remove_member": "could remove a scan account from its provider, losing its role",
    "manage.toggle_admin": "could demote the scan's provider admin, losing its role",
    "manage.archive_course": "archives a course for good, turning pages under test into 404s",
    "manage.cancel_cohort": "cancels a cohort for good, turning pages under test into 404s",
}
#: paths never fetched: files that are not pages, and the static folder
SKIPPED_ENDPOINTS = {"static"}
PAGES_PER_SHAPE = 3
MAX_PAGES_PER_ROLE = 600
FIELD_SKIP_TYPES = {"file", "image", "reset"}


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class PageParser(HTMLParser):
    """Collects ``<a href>`` links and forms (inputs, selects, textareas, named buttons)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(a.get("action", ""), (a.get("method") or "get").upper())
            self.forms.append(self._form)
        elif tag == "option" and self._form is not None and self._select:
            self._form.fields.setdefault(self._select, a.get("value", ""))
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input" and a.get("type", "text").lower() not in FIELD_SKIP_TYPES:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                self._form.fields.setdefault(a["name"], a.get("value", "on"))
            else:
                self._form.fields.setdefault(a["name"], a.get("value", ""))
        elif tag == "button" and a.get("type", "submit").lower() == "submit":
            self._form.fields.setdefault(a["name"], a.get("value", ""))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.fields.setdefault(a["name"], "")

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea and not self._form.fields[self._textarea]:
            self._form.fields[self._textarea] = data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


@dataclass(frozen=True)
class Target:
    """One thing for sqlmap: a GET URL with a query string, or a POST form."""

    role: str
    method: str
    endpoint: str
    url: str  # for GET, with the query string; for POST, the form's action
    data: str = ""  # the POST body, urlencoded, as the page would send it
    page: str = ""  # where the form was found (and a fresh CSRF token with it)
    csrf: bool = False
    test: tuple[str, ...] = ()  # the parameters sqlmap tests here (``-p``); others stay as sent

    @property
    def params(self) -> tuple[str, ...]:
        query = parse_qsl(urlsplit(self.url).query, keep_blank_values=True)
        body = parse_qsl(self.data, keep_blank_values=True)
        return tuple(sorted({k for k, _ in query + body} - {"csrf_token"}))

    @property
    def key(self) -> tuple:
        return (self.role, self.method, self.endpoint, self.params)

    def describe(self) -> str:
        path = urlsplit(self.url).path
        return f"{self.method} {path} [{', '.join(self.test or self.params)}] as {self.role}"


def assign(targets: list[Target]) -> list[Target]:
    """Give each (method, endpoint, parameter) to the first target that has it; drop the rest.

    :return: the targets that test something, each with ``test`` set to its own parameters.
    """
    claimed: set[tuple[str, str, str]] = set()
    kept = []
    for target in targets:
        mine = []
        for name in target.test or target.params:
            key = (target.method, target.endpoint, name)
            if key not in claimed:
                claimed.add(key)
                mine.append(name)
        if mine:
            kept.append(replace(target, test=tuple(mine)))
    return kept


class Crawler:
    """Walks the site as one role with a logged-in ``requests.Session``."""

    def __init__(
        self, base: str, url_map: Map, session: requests.Session, role: str, start: str = ""
    ) -> None:
        self.base = base.rstrip("/")
        self.start = start  # when given, the walk starts there and stays under that path
        self.adapter = url_map.bind(urlsplit(base).netloc)
        self.url_map = url_map
        self.http = session
        self.role = role
        self.targets: dict[tuple, Target] = {}
        #: every value seen in a link, per (endpoint, parameter): see navigation_parameters
        self.values: dict[tuple[str, str], set[str]] = {}
        self.pages = 0
        self.errors: list[str] = []  # pages that answered 500 while crawling

    def endpoint(self, url: str, method: str = "GET") -> str | None:
        """The endpoint serving ``url``, or ``None`` for another host or an unknown path."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.base:
            return None
        if not parts.path.startswith(self.start):
            return None
        try:
            endpoint, _ = self.adapter.match(parts.path, method=method)
        except HTTPException:
            return None
        return endpoint

    def seeds(self) -> list[str]:
        """``/`` and every argument-free GET route of the app (or just ``start``)."""
        if self.start:
            return [self.base + self.start]
        found = [self.base + "/"]
        for rule in self.url_map.iter_rules():
            if rule.arguments or "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS:
                continue
            found.append(self.base + rule.rule)
        return found

    def add(self, target: Target) -> None:
        if target.params:
            self.targets.setdefault(target.key, target)

    def crawl(self) -> list[Target]:
        """Visit pages breadth-first; return the targets found, in the order first seen."""
        queue = deque(self.seeds())
        seen: set[str] = set()
        per_shape: dict[tuple, int] = {}
        while queue and self.pages < MAX_PAGES_PER_ROLE:
            url = urlunsplit(urlsplit(queue.popleft())._replace(fragment=""))
            endpoint = self.endpoint(url)
            if url in seen or endpoint is None or endpoint in SKIPPED_ENDPOINTS:
                continue
            seen.add(url)
            query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
            shape = (endpoint, tuple(sorted({k for k, _ in query})))
            if per_shape.get(shape, 0) >= PAGES_PER_SHAPE:
                continue
            per_shape[shape] = per_shape.get(shape, 0) + 1
            if query:
                self.add(Target(self.role, "GET", endpoint, url))
            response = self.http.get(url, allow_redirects=False, timeout=30)
            self.pages += 1
            # /healthz answers 503 by design while the index lags or is missing: not an error
            healthy_no = endpoint == "ops.healthz" and response.status_code == 503
            if response.status_code >= 500 and not healthy_no:
                self.errors.append(f"GET {url} -> {response.status_code}")
            if response.is_redirect:
                queue.append(urljoin(url, response.headers["Location"]))
                continue
            if "html" not in response.headers.get("Content-Type", ""):
                continue
            parser = PageParser()
            parser.feed(response.text)
            for link in parser.links:
                link = urljoin(url, link)
                self._note_values(link)
                queue.append(link)
            for form in parser.forms:
                self._form_target(url, form, queue)
        return list(self.targets.values())

    def _note_values(self, url: str) -> None:
        endpoint = self.endpoint(url)
        if endpoint is not None:
            for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
                self.values.setdefault((endpoint, name), set()).add(value)

    def _form_target(self, page: str, form: Form, queue: deque) -> None:
        action = urljoin(page, form.action or page)
        method = "POST" if form.method == "POST" else "GET"
        endpoint = self.endpoint(action, method)
        if endpoint is None or (method == "POST" and endpoint in EXCLUDED_POSTS):
            return
        fields = dict(form.fields)
        if method == "GET":
            # a GET form is a link the visitor composes: attack it and walk it like one
            parts = urlsplit(action)
            query = dict(parse_qsl(parts.query, keep_blank_values=True)) | fields
            url = urlunsplit(parts._replace(query=urlencode(query)))
            self.add(Target(self.role, "GET", endpoint, url))
            queue.append(url)
            return
        # The page's CSRF token is kept: Flask-WTF signs it against the session cookie, which the
        # scan never lets change, so it stays valid for every request (scan.py checks that each
        # form's own submission gets past it before attacking)
        csrf = "csrf_token" in fields
        self.add(Target(self.role, "POST", endpoint, action, urlencode(fields), page, csrf))


def navigation_parameters(crawlers: list[Crawler]) -> set[str]:
    """Query parameters the site's own links fill with many values (filters, page numbers).

    Wapiti would attack every one of those links (``/courses?sector=…`` for each sector) and
    spend its time there; the scan removes these names from wapiti's links instead (sqlmap still
    attacks each of them, with its XSS probe too).
    """
    values: dict[tuple[str, str], set[str]] = {}
    for crawler in crawlers:
        for key, seen in crawler.values.items():
            values.setdefault(key, set()).update(seen)
    many = {name for (_, name), seen in values.items() if len(seen) > PAGES_PER_SHAPE}
    # a parameter holding paths or addresses (``next``) is where open redirects live: wapiti's
    # redirect module is for exactly that, so it keeps it
    addresses = {
        name
        for (_, name), seen in values.items()
        if any(value.startswith(("/", "http:", "https:")) for value in seen)
    }
    return many - addresses


def csrf_token(html: str) -> str:
    """The value of the first ``csrf_token`` input in ``html`` (empty if none)."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', html) or re.search(
        r'value="([^"]*)"[^>]*name="csrf_token"', html
    )
    return match.group(1) if match else ""


def log_in(base: str, email: str, password: str) -> requests.Session:
    """A session logged in through the real form; :raise RuntimeError: if the log-in fails."""
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=30)
    response = http.post(
        f"{base}/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    if response.status_code != 302:
        raise RuntimeError(f"log-in as {email} answered {response.status_code}, not a redirect")
    check_logged_in(base, http, email)
    return http


def check_logged_in(base: str, http: requests.Session, email: str) -> None:
    """:raise RuntimeError: unless ``http`` still reaches ``/account`` as ``email``."""
    account = http.get(f"{base}/account", allow_redirects=False, timeout=30)
    if account.status_code != 200 or email not in account.text:
        raise RuntimeError(f"the session of {email} no longer works ({account.status_code})")
