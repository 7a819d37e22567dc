"""iCalendar files (RFC 5545): one event per session, a stable UID, a SEQUENCE that rises.

The UID is derived from the session's id, so it never changes when the dates do; the SEQUENCE is
``CohortSession.sequence``, raised on every change of date, so calendar apps update the event in
place rather than adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, url_for
from icalendar import Calendar, Event

from academy.db_types import utcnow
from academy.enrolment.joining import visible_links
from academy.enrolment.models import Enrolment


def session_uid(session_id: int) -> str:
    return f"session-{session_id}@{current_app.config['CALENDAR_UID_DOMAIN']}"


def build_calendar(enrolments: Iterable[Enrolment], name: str) -> bytes:
    """Return an ``.ics`` with one VEVENT per session of each enrolment's cohort.

    An online cohort's joining link is the event's location, and is in its description, for
    enrolments that hold a place (``enrolment.joining.visible_links`` decides).
    """
    enrolments = list(enrolments)
    links = visible_links(enrolments)
    calendar = Calendar()
    calendar.add("prodid", "-//Relational Learning Academy//Courses//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    stamp = utcnow()
    for enrolment in enrolments:
        cohort = enrolment.cohort
        course = cohort.course
        total = len(cohort.sessions)
        joining = links.get(cohort.id)
        place = joining or ("Online" if cohort.is_online else (cohort.location or ""))
        link = url_for("catalogue.course_detail", slug=course.slug, _external=True)
        about = f"{course.title}, {course.provider.name}.\n{link}"
        if joining:
            about += f"\nJoin online: {joining}"
        for number, session in enumerate(cohort.sessions, start=1):
            event = Event()
            event.add("uid", session_uid(session.id))
            event.add("dtstamp", stamp)
            event.add("dtstart", session.starts_at)
            event.add("dtend", session.ends_at)
            event.add("sequence", session.sequence or 0)
            suffix = f" (session {number} of {total})" if total > 1 else ""
            event.add("summary", f"{course.title}{suffix}")
            event.add("location", place)
            event.add("url", link)
            event.add("description", about)
            event.add("status", "CONFIRMED")
            calendar.add_component(event)
    return calendar.to_ical()
