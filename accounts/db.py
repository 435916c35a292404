"""Database-level guards installed by migrations (style.md #4: the database guards the money).

`AppendOnly` makes a table refuse UPDATE and DELETE with triggers on PostgreSQL and SQLite, so no
code path (admin, raw SQL, a bulk `.update()`) can rewrite history.
"""

import contextlib

from django.db import connection, migrations, transaction


class AppendOnly(migrations.operations.base.Operation):
    reduces_to_sql = True
    reversible = True

    def __init__(self, table: str):
        self.table = table

    def state_forwards(self, app_label, state):
        pass

    def _statements(self, vendor: str) -> list[str]:
        t = self.table
        if vendor == "postgresql":
            return [
                f"""
                CREATE OR REPLACE FUNCTION {t}_refuse_change() RETURNS trigger AS $$
                BEGIN
                    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
                        MESSAGE = '{t} is append-only: ' || TG_OP || ' refused';
                END;
                $$ LANGUAGE plpgsql;
                """,
                f"CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION {t}_refuse_change();",
                f"CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION {t}_refuse_change();",
                f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} EXECUTE FUNCTION {t}_refuse_change();",
            ]
        if vendor == "sqlite":
            return [
                f"CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} "
                f"BEGIN SELECT RAISE(ABORT, '{t} is append-only: UPDATE refused'); END;",
                f"CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} "
                f"BEGIN SELECT RAISE(ABORT, '{t} is append-only: DELETE refused'); END;",
            ]
        raise NotImplementedError(f"append-only triggers are not written for {vendor}")

    def _drop(self, vendor: str) -> list[str]:
        t = self.table
        drops = [
            f"DROP TRIGGER IF EXISTS {t}_no_update" + (f" ON {t}" if vendor == "postgresql" else ""),
            f"DROP TRIGGER IF EXISTS {t}_no_delete" + (f" ON {t}" if vendor == "postgresql" else ""),
        ]
        if vendor == "postgresql":
            drops += [f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}", f"DROP FUNCTION IF EXISTS {t}_refuse_change()"]
        return drops

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for sql in self._statements(schema_editor.connection.vendor):
            schema_editor.execute(sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for sql in self._drop(schema_editor.connection.vendor):
            schema_editor.execute(sql)

    def describe(self):
        return f"Make {self.table} append-only"

    def deconstruct(self):
        return (self.__class__.__name__, [self.table], {})


APPEND_ONLY_TABLES = ["accounts_ledgerentry", "bindings_authorizationevent", "bindings_documentaccess"]


@contextlib.contextmanager
def append_only_guards_suspended(tables=APPEND_ONLY_TABLES):
    """Drop the append-only triggers for the duration of the block, then put them back.

    Only for emptying a whole test database (`flush` between transactional tests); no service uses it.
    """
    vendor = connection.vendor
    with connection.cursor() as cursor:
        for table in tables:
            for sql in AppendOnly(table)._drop(vendor):
                cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for table in tables:
                for sql in AppendOnly(table)._statements(vendor):
                    cursor.execute(sql)


def lock_rows(queryset, ids):
    """Lock rows in primary-key order (Saleor's lock_objects): two transactions that need the same
    rows always ask for them in the same order, so they queue instead of deadlocking."""
    assert transaction.get_connection().in_atomic_block, "lock_rows needs an atomic block"
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {row.pk: row for row in queryset.select_for_update().filter(pk__in=ids).order_by("pk")}


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


class ModelColumns:
    """Every concrete column of `model` under a table alias, for a SELECT list, and the row slice → instance step."""

    def __init__(self, model, alias: str):
        self.model = model
        self.fields = model._meta.concrete_fields
        self.attnames = [f.attname for f in self.fields]
        self.sql = ", ".join(f'{alias}."{f.column}"' for f in self.fields)
        self.width = len(self.fields)
        self._cols = [f.get_col(alias) for f in self.fields]
        self._converters: dict[str, list] = {}

    def _converters_for(self, connection) -> list[tuple[int, list, object]]:
        # What SQLCompiler.get_converters does, once per database vendor (on PostgreSQL these models need none).
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for index, col in enumerate(self._cols):
                converters = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
                if converters:
                    found.append((index, converters, col))
            self._converters[connection.vendor] = found
        return found

    def load(self, row, start: int, connection):
        """The instance in `row[start:start + width]`, or None where a LEFT JOIN found nothing (primary key NULL)."""
        values = list(row[start : start + self.width])
        if values[self.attnames.index(self.model._meta.pk.attname)] is None:
            return None
        for index, converters, col in self._converters_for(connection):
            for converter in converters:
                values[index] = converter(values[index], col, connection)
        return self.model.from_db(connection.alias, self.attnames, values)
