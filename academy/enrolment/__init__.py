"""Enrolment: places in cohorts that are never overbooked, waitlists, requests, calendars."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the blueprint, the course-page helpers and the ``place_state`` filter (a
    state's words, from ``states``)."""
    from academy.enrolment import states
    from academy.enrolment.views import bp, course_panels, login_url_here

    app.register_blueprint(bp)
    app.add_template_global(course_panels, "course_panels")
    app.add_template_global(login_url_here, "login_url_here")
    app.add_template_filter(states.label, "place_state")
    app.add_template_global(states.STATES, "PLACE_STATES")
