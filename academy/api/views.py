"""``GET /api/v1/courses``, ``GET /api/v1/courses/<id>`` and the OpenAPI document.

Every error under ``/api`` is JSON (see ``academy.errors``), never an HTML page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from academy.api.openapi import openapi_document
from academy.catalogue import browse as browsing
from academy.catalogue.models import Course
from academy.catalogue.pages import get_public_course_by_id

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _term(term) -> dict[str, Any] | None:
    return {"slug": term.slug, "name": term.name} if term is not None else None


def course_summary(course: Course, next_start: datetime | None) -> dict[str, Any]:
    """The JSON shape of a course in a list."""
    return {
        "id": course.id,
        "slug": course.slug,
        "title": course.title,
        "summary": course.summary,
        "step": {"number": course.step.number, "slug": course.step.slug, "name": course.step.name},
        "sectors": [_term(s) for s in course.sectors],
        "professions": [_term(p) for p in course.professions],
        "provider": {"slug": course.provider.slug, "name": course.provider.name},
        "delivery_mode": _term(course.delivery_mode),
        "region": _term(course.region),
        "cost": {
            "type": course.cost_type,
            "pounds": None if course.fee_pence is None else course.fee_pence / 100,
        },
        "next_cohort_start": _iso(next_start),
        "url": url_for("catalogue.course_detail", slug=course.slug, _external=True),
    }


@bp.get("/courses")
def courses():
    """A page of published courses (search and browse), with facet counts.

    :raise 404: a page past the end.
    """
    try:
        result, _terms = browsing.browse_args(request.args, current_app.config["COURSES_PER_PAGE"])
    except browsing.PageOutOfRange:
        abort(404, description="There is no such page of results.")
    filters, match = result.filters, result.match
    return jsonify(
        {
            "total": result.total,
            "page": filters.page,
            "per_page": filters.per_page,
            "pages": result.pages,
            "sort": filters.sort,
            "results": _results(result),
            "facets": _facets(result),
            "suggestion": match.suggestion if match else None,
            "corrected_from": match.corrected_from if match else None,
            "search": _search_summary(result),
            "notices": result.notices,
        }
    )


def _results(result: browsing.BrowseResult) -> list[dict[str, Any]]:
    """The page's courses; with words searched, each says whether it matches every word."""
    results = []
    for course in result.courses:
        item = course_summary(course, result.next_start.get(course.id))
        if result.match is not None:
            item["matches_every_word"] = course.id not in result.partial_ids
        results.append(item)
    return results


def _facets(result: browsing.BrowseResult) -> dict[str, list[dict[str, Any]]]:
    """Each filter's values with how many courses each would leave."""
    facets = {
        facet.name: [
            {"slug": v.term.slug, "name": v.term.name, "count": v.count} for v in facet.values
        ]
        for facet in result.facets
    }
    facets["free"] = [{"slug": "1", "name": "Free courses only", "count": result.free_count}]
    facets["weeks"] = [
        {"slug": str(weeks), "name": f"Starting within {weeks} weeks", "count": count}
        for weeks, count in result.weeks_counts.items()
    ]
    return facets


def _search_summary(result: browsing.BrowseResult) -> dict[str, Any] | None:
    """What the words matched: how many courses match every word, what was left out or not
    required, and when nothing fits, the closest escalator step and a shorter query. None
    when no words were searched."""
    match = result.match
    if match is None:
        return None
    step = result.closest_step
    return {
        "nothing_fits": match.nothing_fits,
        "full_matches": match.full_count,
        "excluded": [unit.text for unit in match.excluded],
        "not_required": match.optional,
        "fewer_words": match.fewer_words,
        "closest_step": (
            {"number": step.number, "slug": step.slug, "name": step.name} if step else None
        ),
    }


@bp.get("/courses/<int:course_id>")
def course(course_id: int):
    """One published course (its approved version) with its upcoming cohorts.

    :raise 404: no such course, or not public.
    """
    page = get_public_course_by_id(course_id)
    course = page.course
    data = course_summary(course, page.upcoming[0].starts_at if page.upcoming else None)
    data.update(_details(course))
    data.update(
        {
            "prerequisites": [{"id": c.id, "title": c.title} for c in page.prerequisites],
            "next_steps": [{"id": c.id, "title": c.title} for c in page.next_steps],
            "programmes": [
                {
                    "slug": m.programme.slug,
                    "name": m.programme.name,
                    "module": m.position,
                    "of": total,
                }
                for m, total in page.memberships
            ],  # fmt: skip
            "cohorts": [_cohort(cohort) for cohort in page.upcoming],
        }
    )
    return jsonify(data)


def _details(course: Course) -> dict[str, Any]:
    """The fields a course's own page adds to its summary."""
    return {
        "reference": course.reference,
        "description": course.description,
        "who_its_for": course.who_its_for,
        "entry_requirements": course.entry_requirements,
        "where_next": course.where_next,
        "principles": [_term(p) for p in course.principles],
        "duration_hours": course.duration_hours,
        "cpd_hours": course.cpd_hours,
        "credits": course.credits,
        "credit_level": course.credit_level,
        "lived_experience_codelivery": course.lived_experience_codelivery,
        "external_url": course.external_url,
    }


def _cohort(cohort) -> dict[str, Any]:
    """An upcoming cohort: places, where, when enrolment closes and its sessions (UTC)."""
    return {
        "id": cohort.id,
        "capacity": cohort.capacity,
        "places_left": cohort.places_left,
        "full": cohort.is_full,
        "online": cohort.is_online,
        "location": cohort.location,
        "enrolment_closes_at": _iso(cohort.enrolment_closes_at),
        "sessions": [
            {"starts_at": _iso(s.starts_at), "ends_at": _iso(s.ends_at)} for s in cohort.sessions
        ],
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
