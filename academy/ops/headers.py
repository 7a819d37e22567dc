"""Security headers on every response (pages, JSON, static files, errors).

The Content-Security-Policy allows no inline script or style at all: templates link static files
only (``tests/test_security_headers.py`` renders every page and fails on inline code). A header a
view set itself is kept, except that a weaker Referrer-Policy is raised to ours.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)
REFERRER_POLICY = "strict-origin-when-cross-origin"
# From the most to the least strict; a view's policy stricter than ours is kept.
REFERRER_STRICTNESS = (
    "no-referrer",
    "same-origin",
    "strict-origin",
    "strict-origin-when-cross-origin",
    "origin",
    "origin-when-cross-origin",
    "no-referrer-when-downgrade",
    "unsafe-url",
)


def _referrer_policy(existing: str | None) -> str:
    if existing:
        # A header may list fallbacks; the browser uses the last one it knows.
        chosen = existing.split(",")[-1].strip().lower()
        if chosen in REFERRER_STRICTNESS and REFERRER_STRICTNESS.index(
            chosen
        ) <= REFERRER_STRICTNESS.index(REFERRER_POLICY):
            return existing
    return REFERRER_POLICY


def add_security_headers(response: Response) -> Response:
    """Set the site's security headers on ``response``, keeping stricter ones a view set."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = _referrer_policy(headers.get("Referrer-Policy"))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        # Only over HTTPS: a browser ignores HSTS on plain HTTP, and sending it from a
        # development server on http://localhost would only confuse.
        max_age = int(current_app.config["HSTS_MAX_AGE"])
        headers.setdefault("Strict-Transport-Security", f"max-age={max_age}; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
