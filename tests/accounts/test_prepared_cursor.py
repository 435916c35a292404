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


@pytest.mark.skipif(not PREPARING, reason="PostgreSQL with DB_PREPARED_STATEMENTS on (the default)")
def test_one_cursor_is_kept_per_connection_and_nested_blocks_get_their_own():
    with prepared_cursor() as first:
        first.execute("SELECT 1")
        kept = first.cursor
        with prepared_cursor() as nested:  # while the kept cursor is in use: another one, closed after its block
            assert nested.cursor is not kept
            nested.execute("SELECT 2")
            assert nested.fetchone() == (2,)
        assert nested.cursor.closed and not kept.closed
        assert first.fetchone() == (1,)
    with prepared_cursor() as again:
        assert again.cursor is kept
        again.execute(STATEMENT, ["32050219900101001X"])
        assert again.fetchone() == (0,)


@pytest.mark.skipif(not PREPARING, reason="PostgreSQL with DB_PREPARED_STATEMENTS on (the default)")
def test_the_kept_cursor_survives_an_error():
    from django.db import DatabaseError, transaction

    with prepared_cursor() as cursor:
        kept = cursor.cursor
    with pytest.raises(DatabaseError), transaction.atomic(), prepared_cursor() as cursor:
        cursor.execute("SELECT 1 / 0")
    with prepared_cursor() as cursor:
        assert cursor.cursor is kept
        cursor.execute("SELECT 3")
        assert cursor.fetchone() == (3,)


@pytest.mark.skipif(not PREPARING, reason="PostgreSQL with DB_PREPARED_STATEMENTS on (the default)")
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_gets_a_new_cursor():
    with prepared_cursor() as cursor:
        kept = cursor.cursor
    connection.close()
    with prepared_cursor() as cursor:
        assert cursor.cursor is not kept and cursor.cursor.connection is connection.connection
        cursor.execute("SELECT 4")
        assert cursor.fetchone() == (4,)
