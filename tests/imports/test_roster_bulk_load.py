# ruff: noqa: S608 -- table names come from model _meta; every value is a parameter.
"""A roster at least as large as the table is loaded the pg_restore way (accounts.db.bulk_load): secondary
indexes and foreign keys dropped, rows inserted, all of them rebuilt from the catalogue's own definitions in
the same transaction. PostgreSQL only: SQLite has no transactional index rebuild and keeps its chunked path."""

import contextlib
import datetime
import threading

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from accounts.db import bulk_load
from accounts.imports import roster_pg
from accounts.models import InsuranceType, Person, PersonalAccount
from tests import factories
from tests.imports.conftest import PERSON_HEADER, person_row, unique_id_numbers

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
TABLES = [Person._meta.db_table, PersonalAccount._meta.db_table]


def schema() -> set[tuple]:
    """Every index and constraint of the person and account tables, as the catalogue would recreate them."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT 'index', indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
               WHERE indrelid = ANY(%s::regclass[])
               UNION ALL
               SELECT 'constraint', conname, pg_get_constraintdef(oid) || ' ' || convalidated::text
               || ' ' || condeferrable::text || ' ' || condeferred::text FROM pg_constraint
               WHERE conrelid = ANY(%s::regclass[]) OR confrelid = ANY(%s::regclass[])""",
            [TABLES, TABLES, TABLES],
        )
        return set(cursor.fetchall())


class Seen(list):
    lock_timeout: dict


@pytest.fixture
def bulk_loads(monkeypatch):
    """Spy on the import's bulk_load: what each call yielded (True: rebuilt, False: fell back)."""
    seen = Seen()
    lock_timeout = {"ms": 2000}

    @contextlib.contextmanager
    def spy(tables):
        with bulk_load(tables, lock_timeout_ms=lock_timeout["ms"]) as loaded:
            seen.append(loaded)
            yield loaded

    monkeypatch.setattr(roster_pg, "bulk_load", spy)
    monkeypatch.setattr(roster_pg, "BULK_LOAD_MIN_ROWS", 5)
    seen.lock_timeout = lock_timeout
    return seen


@pytest.fixture
def roster(regions):
    ids = list(unique_id_numbers(40, start=datetime.date(1972, 2, 2)))
    rows = [PERSON_HEADER] + [
        person_row(idn, itype="职工基本医疗保险" if i % 3 else "城乡居民基本医疗保险", name=f"王{i}")
        for i, idn in enumerate(ids)
    ]
    return ids, rows


def test_bulk_roster_load_rebuilds_every_index_and_constraint_as_it_was(importer, roster, bulk_loads):
    ids, rows = roster
    before = schema()
    out = importer.ok("persons", rows)
    assert bulk_loads == [True]
    assert "新增 40、更新 0、未变 0、错误 0" in out
    assert schema() == before
    people = Person.objects.filter(id_number__in=ids)
    assert people.count() == 40
    employees = people.filter(insurance_type=InsuranceType.EMPLOYEE)
    assert PersonalAccount.objects.filter(person__in=employees).count() == employees.count() == 26
    assert len(set(people.values_list("person_no", flat=True))) == 40
    # The rebuilt indexes are used and correct: an exact ID-number lookup goes through the unique index.
    assert Person.objects.get(id_number=ids[17]).name == "王17"
    assert "未变 40" in importer.ok("persons", rows)


def test_bulk_load_after_updates_in_the_same_file(importer, roster, bulk_loads):
    """Updating known people first queues deferred foreign-key checks (an account opened for a resident who
    became employee-insured); the bulk load runs them before it alters the tables."""
    ids, rows = roster
    known = factories.person(name="李娜", insurance_type=InsuranceType.RESIDENT)
    assert not PersonalAccount.objects.filter(person=known).exists()
    out = importer.ok("persons", rows + [person_row(known.id_number, name="李娜")])
    assert bulk_loads == [True]
    assert "新增 40、更新 1、未变 0、错误 0" in out
    assert PersonalAccount.objects.filter(person=known).exists()
    with connection.cursor() as cursor:  # the foreign keys are deferred again, as by default
        cursor.execute(
            f"""INSERT INTO {TABLES[1]} (person_id, balance, opened_at) VALUES (%s, 0, now())""", [10**12]
        )  # would raise at once if the key were immediate
        cursor.execute(f"DELETE FROM {TABLES[1]} WHERE person_id = %s", [10**12])


def test_bulk_load_rechecks_uniqueness_and_foreign_keys_and_a_failure_restores_the_schema(regions):
    before = schema()
    person = factories.person(name="张伟")
    with pytest.raises(IntegrityError), transaction.atomic(), bulk_load(TABLES) as loaded:
        assert loaded
        with connection.cursor() as cursor:
            # No unique index during the load: the duplicate goes in, and the rebuild refuses it.
            cursor.execute(
                f"""INSERT INTO {TABLES[0]} (person_no, id_number, name, sex, birth_date, insurance_type,
                                                 insurance_status, region_id, category, phone, created_at, updated_at)
                        SELECT 'X-1', id_number, name, sex, birth_date, insurance_type, insurance_status, region_id,
                               category, phone, created_at, updated_at FROM {TABLES[0]} WHERE id = %s""",
                [person.pk],
            )
    assert schema() == before
    with pytest.raises(IntegrityError), transaction.atomic(), bulk_load(TABLES), connection.cursor() as cursor:
        cursor.execute(  # an account for nobody: the re-added foreign key refuses it
            f"INSERT INTO {TABLES[1]} (person_id, balance, opened_at) VALUES (%s, 0, now())", [10**12]
        )
    assert schema() == before
    assert Person.objects.filter(id_number=person.id_number).count() == 1


def test_no_bulk_load_for_a_dry_run_or_a_file_smaller_than_the_table(importer, roster, bulk_loads):
    ids, rows = roster
    out = importer.ok("persons", rows, dry_run=True)
    assert "新增 40" in out and not Person.objects.exists()
    for idn in unique_id_numbers(41, start=datetime.date(1990, 1, 1)):
        factories.person(id_number_value=idn)
    importer.ok("persons", rows)  # 40 new people into a table of 41
    assert bulk_loads == []
    assert Person.objects.filter(id_number__in=ids).count() == 40


@pytest.mark.django_db(transaction=True)
def test_bulk_load_falls_back_to_ordinary_inserts_while_the_roster_is_in_use(importer, roster, bulk_loads):
    ids, rows = roster
    bulk_loads.lock_timeout["ms"] = 200
    settings = connection.settings_dict
    reading, release = threading.Event(), threading.Event()

    def counter_clerk():  # an open transaction that has read the roster (ACCESS SHARE until it ends)
        with psycopg.connect(
            host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
            password=settings["PASSWORD"], dbname=settings["NAME"],
        ) as other:  # fmt: skip
            other.execute(f"SELECT count(*) FROM {TABLES[0]}")
            reading.set()
            release.wait(30)

    clerk = threading.Thread(target=counter_clerk)
    clerk.start()
    try:
        assert reading.wait(10)
        out = importer.ok("persons", rows)
    finally:
        release.set()
        clerk.join(10)
    assert bulk_loads == [False]
    assert "新增 40" in out
    assert Person.objects.filter(id_number__in=ids).count() == 40


def test_no_bulk_load_for_a_role_that_does_not_own_the_tables(importer, roster, bulk_loads):
    """An application role with row privileges only (not the owner, who alone may drop indexes)."""
    ids, rows = roster
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE ma_rows_only NOLOGIN")  # rolled back with the test's transaction
        cursor.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO ma_rows_only")
        cursor.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ma_rows_only")
        cursor.execute("SELECT current_database()")
        cursor.execute(f'GRANT TEMPORARY ON DATABASE "{cursor.fetchone()[0]}" TO ma_rows_only')
        cursor.execute("SET LOCAL ROLE ma_rows_only")
    out = importer.ok("persons", rows)
    assert bulk_loads == [False]
    assert "新增 40" in out
    assert Person.objects.filter(id_number__in=ids).count() == 40
