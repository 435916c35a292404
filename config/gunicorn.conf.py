"""Production gunicorn settings: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Processes, one request at a time each (`2 × cores + 1`, gunicorn's own rule of thumb), rather than a few processes
with several threads: a request here spends most of its time waiting for PostgreSQL, and with threads the waiting
ones queue behind the running one for Python's interpreter lock. On the two-core benchmark machine that queueing
cost the settlement API a quarter of its throughput, and the hot grantor (every request waiting for one account's
row lock, which is held until the holder gets the interpreter back) a third (docs/benchmarks.md, "Server shape").
The gthread worker, even with one thread, keeps idle keep-alive connections of the designated institutions' systems
open without tying the process up.
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
