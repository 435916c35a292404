"""accounts.db.use_c_timestamptz_loader: on PostgreSQL, timestamps are parsed by psycopg's C loader and come back
exactly as Django's own loader gives them (aware, UTC)."""

import datetime
import zoneinfo

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's timestamptz loaders"),
]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
VALUES_SQL = """
    SELECT v FROM (VALUES
        ('2026-03-01 10:00:00.123456+08'::timestamptz),
        ('2024-02-29 23:59:59.999999+00'::timestamptz),
        ('1969-12-31 23:00:00-05'::timestamptz),
        ('1900-01-01 00:00:00+00'::timestamptz),
        ('9999-12-31 23:59:59+00'::timestamptz),
        ('2026-11-27 00:00:00+08'::timestamptz)
    ) AS t(v)"""


def test_the_connection_reads_timestamps_with_the_c_loader():
    import psycopg

    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(
        psycopg.adapters.types["timestamptz"].oid, psycopg.pq.Format.TEXT
    )
    assert loader.__name__ == "CTimestamptzLoader" and loader.timezone == datetime.UTC


def test_values_equal_djangos_own_loader():
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute(VALUES_SQL)
        ours = [row[0] for row in cursor.fetchall()]
    djangos_cursor = connection.connection.cursor()
    register_tzloader(datetime.UTC, djangos_cursor)  # Django's Python loader, on this cursor only
    djangos_cursor.execute(VALUES_SQL)
    djangos = [row[0] for row in djangos_cursor.fetchall()]
    djangos_cursor.close()
    assert ours == djangos
    assert [value.tzinfo for value in ours] == [datetime.UTC] * len(ours)
    assert ours[0] == datetime.datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=SHANGHAI)


def test_an_aware_local_time_round_trips():
    moment = datetime.datetime(2026, 11, 27, 8, 30, 15, 250000, tzinfo=SHANGHAI)
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::timestamptz", [moment])
        (read,) = cursor.fetchone()
    assert read == moment and read.tzinfo == datetime.UTC


def test_a_model_reads_back_the_moment_it_saved():
    from accounts.models import ApiClient
    from tests import factories

    client, _ = factories.api_client(role="staff")
    assert ApiClient.objects.get(pk=client.pk).created_at == client.created_at
