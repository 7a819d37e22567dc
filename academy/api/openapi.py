"""The OpenAPI 3.1 description of the read API. Tests check the API against it."""

from __future__ import annotations

from typing import Any

from academy.catalogue.browse import PER_PAGE_CHOICES, SORTS


def _string_param(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", **schema},
    }


TERM = {
    "type": "object",
    "required": ["slug", "name"],
    "properties": {"slug": {"type": "string"}, "name": {"type": "string"}},
}
NULLABLE_TERM = {"anyOf": [TERM, {"type": "null"}]}
FACET_VALUE = {
    "type": "object",
    "required": ["slug", "name", "count"],
    "properties": {
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "count": {"type": "integer", "minimum": 0},
    },
}
COURSE_SUMMARY = {
    "type": "object",
    "required": [
        "id", "slug", "title", "summary", "step", "sectors", "professions", "provider",
        "delivery_mode", "region", "cost", "next_cohort_start", "url",
    ],
    "properties": {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "title": {"type": "string"},
        "summary": {"type": "string"},
        "step": {
            "type": "object",
            "required": ["number", "slug", "name"],
            "properties": {
                "number": {"type": "integer", "minimum": 0, "maximum": 4},
                "slug": {"type": "string"},
                "name": {"type": "string"},
            },
        },
        "sectors": {"type": "array", "items": TERM},
        "professions": {"type": "array", "items": TERM},
        "provider": TERM,
        "delivery_mode": NULLABLE_TERM,
        "region": NULLABLE_TERM,
        "cost": {
            "type": "object",
            "required": ["type", "pounds"],
            "properties": {
                "type": {"type": "string", "enum": ["free", "funded", "fee"]},
                "pounds": {"type": ["number", "null"]},
            },
        },
        "next_cohort_start": {"type": ["string", "null"], "format": "date-time"},
        "url": {"type": "string"},
        "matches_every_word": {"type": "boolean"},
    },
}  # fmt: skip
SEARCH_SUMMARY = {
    "type": ["object", "null"],
    "required": ["nothing_fits", "full_matches", "excluded", "not_required", "fewer_words",
                 "closest_step"],
    "properties": {
        "nothing_fits": {"type": "boolean"},
        "full_matches": {"type": "integer", "minimum": 0},
        "excluded": {"type": "array", "items": {"type": "string"}},
        "not_required": {"type": "array", "items": {"type": "string"}},
        "fewer_words": {"type": ["string", "null"]},
        "closest_step": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["number", "slug", "name"],
                    "properties": {
                        "number": {"type": "integer"},
                        "slug": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
                {"type": "null"},
            ]
        },
    },
}  # fmt: skip
ERROR = {
    "type": "object",
    "required": ["error", "status"],
    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
}


def _json(description: str, schema: str) -> dict[str, Any]:
    """A response whose body is the named schema, as JSON."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


NOT_FOUND = _json("No such course or page of results.", "Error")

COURSE_LIST_PARAMETERS = [
    _string_param("q", "Words to search for.", maxLength=5000),
    _string_param("step", "Escalator step slug, e.g. awareness."),
    _string_param("sector", "Sector slug."),
    _string_param("profession", "Profession slug."),
    _string_param("mode", "Delivery mode slug."),
    _string_param("region", "Region slug."),
    _string_param("programme", "Programme slug."),
    _string_param("provider", "Provider slug."),
    _string_param("free", "1 for free courses only."),
    _string_param("weeks", "Starting within this many weeks (1 to 520)."),
    _string_param("sort", "One of: " + ", ".join(SORTS) + "."),
    _string_param("per_page", "Results per page: " + ", ".join(map(str, PER_PAGE_CHOICES)) + "."),
    _string_param("page", "Page number, from 1."),
]

COURSE = {
    "allOf": [
        {"$ref": "#/components/schemas/CourseSummary"},
        {
            "type": "object",
            "required": ["reference", "description", "cohorts"],
            "properties": {
                "reference": {"type": "string"},
                "description": {"type": "string"},
                "cohorts": {"type": "array", "items": {"type": "object"}},
                "prerequisites": {"type": "array", "items": {"type": "object"}},
                "next_steps": {"type": "array", "items": {"type": "object"}},
            },
        },
    ]
}
COURSE_LIST = {
    "type": "object",
    "required": [
        "total", "page", "per_page", "pages", "results", "facets", "suggestion", "notices",
    ],
    "properties": {
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer"},
        "pages": {"type": "integer", "minimum": 1},
        "sort": {"type": "string"},
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/CourseSummary"}},
        "facets": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": FACET_VALUE},
        },
        "suggestion": {"type": ["string", "null"]},
        "corrected_from": {"type": ["string", "null"]},
        "search": SEARCH_SUMMARY,
        "notices": {"type": "array", "items": {"type": "string"}},
    },
}  # fmt: skip


def _paths() -> dict[str, Any]:
    """The two read-only operations: the list (search and browse) and one course."""
    course_id = {"name": "course_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "/api/v1/courses": {
            "get": {
                "summary": "Search and browse published courses",
                "description": "The same parameters as the /courses page. Unknown or odd "
                "filter values are ignored and reported in `notices`. Every word of `q` is "
                'required; "quotes" keep words together, -word or NOT word leaves courses '
                "out, OR accepts either side (see /search-help). Courses matching only "
                "some words follow those matching all, flagged `matches_every_word: false`; "
                "when nothing fits, `results` is empty and `search` says what comes "
                "closest.",
                "parameters": COURSE_LIST_PARAMETERS,
                "responses": {
                    "200": _json("A page of results with facet counts.", "CourseList"),
                    "404": NOT_FOUND,
                },
            }
        },
        "/api/v1/courses/{course_id}": {
            "get": {
                "summary": "One published course, with its upcoming cohorts",
                "parameters": [course_id],
                "responses": {"200": _json("The course.", "Course"), "404": NOT_FOUND},
            }
        },
    }


def openapi_document() -> dict[str, Any]:
    """Return the OpenAPI document for ``/api/v1``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Relational Learning Academy catalogue",
            "version": "1.0.0",
            "description": "Published relational-practice courses, arranged as a training "
            "escalator. Read only; no authentication.",
        },
        "servers": [{"url": "/"}],
        "paths": _paths(),
        "components": {
            "schemas": {
                "Error": ERROR,
                "CourseSummary": COURSE_SUMMARY,
                "Course": COURSE,
                "CourseList": COURSE_LIST,
            }
        },
    }
