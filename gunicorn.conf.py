"""gunicorn settings for ``gunicorn wsgi:app`` (read from the working directory).

Every value can be set from the environment, so one file serves every server:
``GUNICORN_BIND`` (default 127.0.0.1:8000: a reverse proxy stands in front),
``GUNICORN_WORKERS`` (default 2 × cores + 1), ``GUNICORN_THREADS`` (default 1),
``GUNICORN_TIMEOUT`` (30 s) and ``GUNICORN_GRACEFUL_TIMEOUT`` (30 s).

The access log is off: the app writes one structured JSON line per request (request id, path
without query string, status, duration, role) to standard error, which ``errorlog = "-"`` keeps.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
# On SIGTERM (systemd stop, a deploy) workers finish the requests they hold for this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
keepalive = 5
# Recycle workers now and then so a slow leak never grows; the jitter keeps them from all
# restarting at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = 200
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The app is imported in each worker, never in the master: no database connection or index
# handle can be shared across a fork.
preload_app = False
proc_name = "academy"
control_socket_disable = True  # gunicorn 24+: no shared ~/.gunicorn socket between instances
