"""Running in production: security headers, request ids and JSON request logs, rate limits that
hold across servers, ``/healthz``, and ``ProxyFix`` when proxies stand in front.

See ``docs/deploy.md`` for the server layouts and ``academy/config.py`` for the production profile.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    """Wire every part; registered before the other blueprints so its request hooks run first
    (and its response hooks last, on the final response)."""
    from academy.ops import headers, ratelimit, requestlog
    from academy.ops.health import bp

    count = int(app.config.get("PROXY_COUNT") or 0)
    if count:
        # Trust X-Forwarded-For/-Proto/-Host/-Port/-Prefix exactly ``count`` proxies deep: the
        # client address (for rate limits) and https (for secure cookies, HSTS) come from them.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count, x_prefix=count
        )
    requestlog.init_app(app)
    ratelimit.init_app(app)
    headers.init_app(app)
    app.register_blueprint(bp)
