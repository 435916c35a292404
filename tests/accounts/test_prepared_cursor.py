"""`accounts.db.prepared_cursor`: the hot path's fixed statements are prepared once per connection on PostgreSQL,
logged like any other query, and go through an ordinary cursor where that is switched off or on SQLite."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.db import prepared_cursor

pytestmark = pytest.mark.django_db

STATEMENT = "SELECT COUNT(*) FROM accounts_person WHERE id_number = %s"


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def run_twice():
    for _ in range(2):
        with prepared_cursor() as cursor:
            cursor.execute(STATEMENT, ["32050219900101001X"])
            assert cursor.fetchone() == (0,)


POSTGRESQL = connection.vendor == "postgresql"
# The environment may have switched prepared statements off (a pooler that cannot keep them) or on for every query.
PREPARING = POSTGRESQL and settings.DB_PREPARED_STATEMENTS
SERVER_SIDE_BINDING = POSTGRESQL and connection.settings_dict["OPTIONS"].get("server_side_binding") is True


@pytest.mark.skipif(not PREPARING, reason="PostgreSQL with DB_PREPARED_STATEMENTS on (the default)")
def test_statement_is_prepared_once_per_connection_and_logged():
    with CaptureQueriesContext(connection) as queries:
        run_twice()
    assert [q["sql"] for q in queries].count(STATEMENT.replace("%s", "'32050219900101001X'")) == 2
    assert sum("accounts_person WHERE id_number = $1" in s for s in prepared_statements()) == 1


@pytest.mark.skipif(
    not POSTGRESQL or SERVER_SIDE_BINDING, reason="PostgreSQL without DB_SERVER_SIDE_BINDING (which prepares all)"
)
@override_settings(DB_PREPARED_STATEMENTS=False)
def test_switched_off_for_poolers_that_cannot_keep_them():
    run_twice()
    assert not any("accounts_person WHERE id_number" in s for s in prepared_statements())


def test_an_ordinary_cursor_elsewhere():
    run_twice()  # SQLite (and PostgreSQL): the same results through whatever cursor applies
