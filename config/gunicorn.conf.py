"""Production gunicorn settings: `gunicorn -c config/gunicorn.conf.py config.wsgi`, behind a reverse proxy.

`2 × cores + 1` processes of one request at a time (gunicorn's own rule of thumb), rather than a few processes with
several threads: a settlement spends much of its time waiting for PostgreSQL, and with threads a request coming back
from the database queues for Python's interpreter lock behind the others; when every payer of one grantor waits for
the request holding that account's row lock, they all wait for it too (docs/benchmarks.md, "2026-11-27, afternoon").

With one thread the worker is gunicorn's `sync` worker: a process accepts a connection only when it is free, so a
request never waits in a busy process behind another connection's request while another process idles, as it can with
`gthread` holding keep-alive connections. On the benchmark host that cut the settlement API's p99 by a third or
more at the same throughput (docs/benchmarks.md, "Sync workers"). A sync worker expects a buffering reverse proxy
(nginx) in front, as gunicorn's deployment notes say: the proxy keeps the institutions' systems' keep-alive
connections and TLS, and hands gunicorn whole requests. GUNICORN_THREADS above 1 switches to `gthread` (keep-alive
30 s).

A sync worker is restarted when one request runs longer than `timeout`: 120 s by default (GUNICORN_TIMEOUT), beyond an
admin import of the largest upload (DATA_UPLOAD_MAX_MEMORY_SIZE); bulk loads go through `import_data`. The proxy's read
timeout should be at least as long.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "sync" if threads == 1 else "gthread"
keepalive = 30  # gthread only; the sync worker closes each connection after its response
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
backlog = 256
accesslog = None  # requests are logged by the reverse proxy in front
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
