"""Two clerks import the same file at the same moment (PostgreSQL: concurrent connections)."""

import threading

import pytest

from accounts.imports import resources
from accounts.imports.pipeline import MSG_WRITTEN_MEANWHILE, run_import
from accounts.imports.reading import ImportFileError
from accounts.models import Region

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_same_file_imported_twice_at_once_writes_once_and_the_loser_gets_a_clear_message(tmp_path, monkeypatch):
    """Both imports check the file before either writes (a barrier after the check): the first commits, the second's
    INSERT then meets the unique code. It is refused whole with a message, not a database traceback, and a re-run
    counts every row unchanged."""
    path = tmp_path / "regions.csv"
    path.write_text("区划代码,名称\n320000,江苏省\n320500,苏州市\n320100,南京市\n", encoding="utf-8")
    both_checked = threading.Barrier(2, timeout=10)
    check = resources.RegionSpec.check

    def check_then_wait(self, chunk):
        check(self, chunk)
        both_checked.wait()

    monkeypatch.setattr(resources.RegionSpec, "check", check_then_wait)

    def clerk():
        from django.db import connection

        try:
            with path.open("rb") as stream:
                return run_import("regions", stream, filename=path.name)
        finally:
            connection.close()

    results = [None, None]
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, _outcome(clerk))) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    written = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(written) == 1 and written[0].written and written[0].created == 3, results
    assert len(refused) == 1 and isinstance(refused[0], ImportFileError), results
    assert refused[0].message == MSG_WRITTEN_MEANWHILE
    assert "3205" not in refused[0].message  # no key from the database's own message
    assert Region.objects.count() == 3

    monkeypatch.setattr(resources.RegionSpec, "check", check)
    with path.open("rb") as stream:
        again = run_import("regions", stream, filename=path.name)
    assert (again.created, again.unchanged) == (0, 3)


def _outcome(job):
    try:
        return job()
    except Exception as error:  # noqa: BLE001 - returned to the test, which asserts on it
        return error
