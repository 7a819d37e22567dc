"""Load the demonstration catalogue from the readable YAML files in ``seed/``.

Seeding only ever adds what is missing, keyed on natural keys (taxonomy and provider slugs,
provider + course reference, programme slugs), so running it twice changes nothing. Cohort dates
are offsets in days from the day of seeding, so the demonstration never shows only past dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select

from academy.catalogue.models import (
    Cohort,
    CohortSession,
    Course,
    Programme,
    ProgrammeModule,
)
from academy.catalogue.slugs import make_unique_slug
from academy.db_types import utcnow
from academy.extensions import db
from academy.providers.models import Provider
from academy.taxonomy.models import TERM_MODELS

UK = ZoneInfo("Europe/London")


class SeedError(ValueError):
    """The seed files are inconsistent (an unknown slug, a reference that does not resolve)."""


@dataclass
class SeedReport:
    """How many rows of each kind seeding added."""

    added: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, number: int = 1) -> None:
        self.added[kind] = self.added.get(kind, 0) + number

    @property
    def total(self) -> int:
        return sum(self.added.values())


def _read(path: Path) -> Any:
    """The YAML file's data. :raise SeedError: it is missing or is not readable YAML."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError as error:
        raise SeedError(
            f"{path.name} is missing from {path.parent}: a seed folder holds taxonomy.yaml,"
            " providers.yaml, programmes.yaml and courses/*.yaml."
        ) from error
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise SeedError(f"{path} cannot be read: {error}") from error


def seed_taxonomy(seed_dir: Path, report: SeedReport | None = None) -> SeedReport:
    """Add the taxonomy terms of ``seed_dir/taxonomy.yaml`` that the database lacks; flush.

    This is reference data, needed by any install (``flask taxonomy load``), with or without
    the demonstration catalogue. Terms already present (by slug) are left as curators made them.

    :raise SeedError: the file is missing or unreadable, or is not a mapping of lists.
    """
    report = report or SeedReport()
    data = _read(Path(seed_dir) / "taxonomy.yaml")
    if not isinstance(data, dict):
        raise SeedError("taxonomy.yaml should map each list (steps, sectors, ...) to its values.")
    for kind, model in TERM_MODELS.items():
        existing = set(db.session.scalars(select(model.slug)))
        for position, entry in enumerate(data.get(kind) or []):
            if entry["slug"] in existing:
                continue
            db.session.add(model(position=position, **entry))
            report.count(kind)
    db.session.flush()
    return report


class _Terms:
    """Slug lookups for the taxonomy, loaded once."""

    def __init__(self) -> None:
        self.by_kind = {
            kind: {term.slug: term for term in db.session.scalars(select(model))}
            for kind, model in TERM_MODELS.items()
        }
        self.steps_by_number = {step.number: step for step in self.by_kind["steps"].values()}

    def one(self, kind: str, slug: str | None, where: str):
        if slug is None:
            return None
        try:
            return self.by_kind[kind][slug]
        except KeyError:
            raise SeedError(f"{where}: unknown {kind} slug {slug!r}") from None

    def many(self, kind: str, slugs: list[str] | None, where: str) -> list:
        return [self.one(kind, slug, where) for slug in slugs or []]


def _cost(value: Any) -> tuple[str, int | None]:
    if value in (None, "free"):
        return "free", None
    if value == "funded":
        return "funded", None
    return "fee", round(float(value) * 100)


def _at(day_zero: date, offset: int, clock: str) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    local = datetime.combine(day_zero + timedelta(days=offset), time(hours, minutes), tzinfo=UK)
    return local.astimezone(ZoneInfo("UTC"))


def _build_cohort(entry: dict, day_zero: date) -> Cohort:
    sessions = [
        CohortSession(
            starts_at=_at(day_zero, s["day"], s["start"]),
            ends_at=_at(day_zero, s["day"], s["end"]),
        )
        for s in entry["sessions"]
    ]
    closes = entry.get("enrolment_closes_day")
    return Cohort(
        capacity=entry["capacity"],
        seats_taken=entry.get("seats_taken", 0),
        is_online=bool(entry.get("online", False)),
        location=entry.get("location"),
        enrolment_closes_at=None if closes is None else _at(day_zero, closes, "23:59"),
        sessions=sessions,
    )


def _build_course(entry: dict, provider: Provider, terms: _Terms, slug: str) -> Course:
    where = f"{provider.slug}/{entry.get('reference')}"
    cost_type, fee_pence = _cost(entry.get("cost"))
    status = entry.get("status", "published")
    step = terms.steps_by_number.get(entry["step"])
    if step is None:
        raise SeedError(f"{where}: unknown step {entry['step']!r}")
    return Course(
        slug=slug,
        provider=provider,
        reference=entry["reference"],
        title=entry["title"].strip(),
        summary=(entry.get("summary") or "").strip(),
        description=(entry.get("description") or "").strip(),
        who_its_for=(entry.get("who_its_for") or "").strip(),
        entry_requirements=(entry.get("entry_requirements") or "").strip(),
        where_next=(entry.get("where_next") or "").strip(),
        step=step,
        sectors=terms.many("sectors", entry.get("sectors"), where),
        professions=terms.many("professions", entry.get("professions"), where),
        principles=terms.many("principles", entry.get("principles"), where),
        delivery_mode=terms.one("delivery_modes", entry.get("delivery_mode"), where),
        region=terms.one("regions", entry.get("region"), where),
        duration_hours=entry.get("duration_hours"),
        cpd_hours=entry.get("cpd_hours"),
        credits=entry.get("credits"),
        credit_level=entry.get("credit_level"),
        cost_type=cost_type,
        fee_pence=fee_pence,
        lived_experience_codelivery=bool(entry.get("lived_experience_codelivery", False)),
        external_url=entry.get("url"),
        status=status,
        published_at=utcnow() if status == "published" else None,
    )


def seed_catalogue(seed_dir: Path, today: date | None = None) -> SeedReport:
    """Add the demonstration taxonomy, providers, courses, cohorts and programmes; flush only.

    Only rows missing from the database are added (a course's cohorts only with the course
    itself), so a second run adds nothing. ``today`` anchors the cohort dates (default: today
    in UK time).

    :raise SeedError: when a seed file names a slug or a course that does not exist.
    """
    seed_dir = Path(seed_dir)
    day_zero = today or datetime.now(UK).date()
    report = seed_taxonomy(seed_dir)
    providers = _seed_providers(seed_dir, report)
    courses = _seed_courses(seed_dir, providers, day_zero, report)
    _seed_programmes(seed_dir, providers, courses, report)
    db.session.flush()
    return report


def _seed_providers(seed_dir: Path, report: SeedReport) -> dict[str, Provider]:
    """Every provider by slug, adding the seed file's missing ones (verified)."""
    providers = {p.slug: p for p in db.session.scalars(select(Provider))}
    for entry in _read(seed_dir / "providers.yaml"):
        if entry["slug"] not in providers:
            providers[entry["slug"]] = Provider(**entry, verified_at=utcnow())
            db.session.add(providers[entry["slug"]])
            report.count("providers")
    db.session.flush()
    return providers


def _seed_courses(
    seed_dir: Path, providers: dict[str, Provider], day_zero: date, report: SeedReport
) -> dict[tuple[str, str], Course]:
    """Every course by (provider slug, reference), adding the missing ones with their cohorts,
    then their prerequisites. :raise SeedError: an unknown provider or prerequisite."""
    terms = _Terms()
    courses = {
        (course.provider.slug, course.reference): course
        for course in db.session.scalars(select(Course))
    }
    taken_slugs = {slug for (slug,) in db.session.execute(select(Course.slug))}
    new_entries: list[tuple[Course, dict]] = []
    for path in sorted((seed_dir / "courses").glob("*.yaml")):
        data = _read(path)
        provider = providers.get(data["provider"])
        if provider is None:
            raise SeedError(f"{path.name}: unknown provider {data['provider']!r}")
        for entry in data["courses"]:
            key = (provider.slug, entry["reference"])
            if key in courses:
                continue
            slug = make_unique_slug(entry["title"], taken_slugs)
            taken_slugs.add(slug)
            course = _build_course(entry, provider, terms, slug)
            course.cohorts = [_build_cohort(c, day_zero) for c in entry.get("cohorts") or []]
            db.session.add(course)
            courses[key] = course
            new_entries.append((course, entry))
            report.count("courses")
            report.count("cohorts", len(course.cohorts))
    for course, entry in new_entries:
        for ref in entry.get("requires") or []:
            required = courses.get(tuple(ref.split("/", 1)))
            if required is None:
                raise SeedError(f"{course.reference}: prerequisite {ref!r} does not exist")
            course.prerequisites.append(required)
    db.session.flush()
    return courses


def _seed_programmes(seed_dir, providers, courses, report: SeedReport) -> None:
    """Add the missing programmes, each an ordered list of courses. :raise SeedError: a module
    that is not a course."""
    programmes = set(db.session.scalars(select(Programme.slug)))
    for entry in _read(seed_dir / "programmes.yaml"):
        if entry["slug"] in programmes:
            continue
        programme = Programme(
            slug=entry["slug"],
            name=entry["name"],
            description=(entry.get("description") or "").strip(),
            provider=providers.get(entry.get("provider")) if entry.get("provider") else None,
        )
        for position, ref in enumerate(entry["modules"], start=1):
            course = courses.get(tuple(ref.split("/", 1)))
            if course is None:
                raise SeedError(f"programme {entry['slug']}: module {ref!r} does not exist")
            programme.modules.append(ProgrammeModule(course=course, position=position))
        db.session.add(programme)
        report.count("programmes")
