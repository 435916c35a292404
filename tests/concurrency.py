"""Run jobs at the same moment, each on its own database connection (PostgreSQL tests marked `postgres`)."""

import threading

from django.db import connections


def run_together(jobs, timeout: float = 60) -> list:
    """Start every job at once (a barrier) in its own thread; return each job's result, or the exception it
    raised, in order. Each thread closes its connections, so the test database can be flushed afterwards."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait(timeout=10)
            results[index] = job()
        except Exception as error:  # noqa: BLE001 - returned to the test, which asserts on it
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
