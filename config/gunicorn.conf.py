"""Production gunicorn settings: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Processes of one thread each, `2 × cores + 1` (gunicorn's own rule of thumb), rather than a few processes with
several threads. A settlement spends much of its time waiting for PostgreSQL, and with threads a request coming back
from the database queues for Python's interpreter lock behind the others; when every payer of one grantor waits for
the request holding that account's row lock, they all wait for it too. On the two-core benchmark host the hot
grantor did as well or better in single-threaded processes in all comparisons but one, and so did the settlement
API when the host was busy; on a quiet host 2 processes × 4 threads served about 10 % more, each request costing
less CPU in fewer processes (docs/benchmarks.md, "2026-11-27, afternoon"). WEB_CONCURRENCY and GUNICORN_THREADS
change the shape. The gthread worker, even with one thread, keeps idle keep-alive connections of the designated
institutions' systems open without tying the process up.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread"
keepalive = 30
backlog = 256
accesslog = None  # requests are logged by the reverse proxy in front
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
