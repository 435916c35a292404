"""What the accounts app asks of the database below the ORM.

- Guards installed by migrations (style.md #4: the database guards the money): `AppendOnly` makes a table refuse
  UPDATE and DELETE with triggers on PostgreSQL and SQLite, so no code path (admin, raw SQL, a bulk `.update()`) can
  rewrite history.
- Row locks in primary-key order (`lock_by_pk`).
- The roster's bulk load (`bulk_load`).
- Timestamps parsed by psycopg's C loader on every PostgreSQL connection (`use_c_timestamptz_loader`).
- The settlement hot path's fixed SQL (docs/architecture.md, "The settlement's hot path"): `ModelColumns` (model
  instances from hand-written SELECTs), `prepared_cursor` and `insert_together` (several writes in one statement).
"""

import contextlib
import dataclasses
import functools

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, migrations, transaction
from django.db.backends.utils import CursorDebugWrapper


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


@dataclasses.dataclass(frozen=True)
class _Dependent:
    """An index or constraint that a bulk load may drop and rebuild: how to drop it, how to make it again."""

    table: str
    name: str
    create: str
    kind: str  # "index", "unique" or "foreign key"

    @property
    def drop(self) -> str:
        if self.kind == "index":
            return f"DROP INDEX {self.name}"
        return f"ALTER TABLE {self.table} DROP CONSTRAINT {self.name}"


def _dependents(cursor, tables: list[str]) -> list[_Dependent]:
    """The secondary indexes, unique constraints and foreign keys of `tables`, from the catalogue, in build
    order (indexes, then foreign keys). Kept: primary keys, anything a foreign key relies on (the index a
    foreign key references), CHECK constraints (cheap per row, and they never need rebuilding)."""
    cursor.execute(
        """SELECT i.indrelid::regclass::text, quote_ident(c.relname), pg_get_indexdef(i.indexrelid), 'index'
           FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
           UNION ALL
           SELECT k.conrelid::regclass::text, quote_ident(k.conname),
                  pg_get_constraintdef(k.oid), CASE k.contype WHEN 'u' THEN 'unique' ELSE 'foreign key' END
           FROM pg_constraint k
           WHERE k.conrelid = ANY(%s::regclass[]) AND k.contype IN ('u', 'f')
             AND NOT (k.contype = 'u' AND EXISTS (SELECT 1 FROM pg_constraint f
                                                   WHERE f.contype = 'f' AND f.conindid = k.conindid))
           ORDER BY 4 DESC, 1, 2""",
        [tables, tables],
    )
    # ORDER BY kind DESC: "unique", "index", then "foreign key" (the keys reference what the others rebuild).
    return [_Dependent(table, name, create, kind) for table, name, create, kind in cursor.fetchall()]


def _lock_for_bulk_load(cursor, tables: list[str], lock_timeout_ms: int) -> bool:
    # Dropping an index takes the table's owner. An application role that may only read and write rows gets
    # the ordinary insert.
    cursor.execute(
        "SELECT bool_and(pg_has_role(current_user, relowner, 'USAGE')) FROM pg_class WHERE oid = ANY(%s::regclass[])",
        [tables],
    )
    if not cursor.fetchone()[0]:
        return False
    cursor.execute("SELECT current_setting('lock_timeout')")
    (previous,) = cursor.fetchone()
    try:
        with transaction.atomic():
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{lock_timeout_ms}ms"])
            cursor.execute(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
            # Re-adding a foreign key takes SHARE ROW EXCLUSIVE on the table it references: ask now, under
            # the same timeout, rather than wait at the end.
            cursor.execute(
                """SELECT DISTINCT confrelid::regclass::text FROM pg_constraint
                   WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) AND NOT confrelid = ANY(%s::regclass[])""",
                [tables, tables],
            )
            referenced = [name for (name,) in cursor.fetchall()]
            if referenced:
                cursor.execute(f"LOCK TABLE {', '.join(referenced)} IN SHARE ROW EXCLUSIVE MODE")
    except OperationalError:  # LockNotAvailable; the savepoint's rollback also restored lock_timeout
        return False
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return True


def _fire_pending_constraint_checks(cursor) -> None:
    """Run the deferred foreign-key checks queued so far in this transaction (PostgreSQL refuses to ALTER a
    table with pending trigger events), then defer again exactly the constraints that are deferred by default."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _defer_deferred_by_default(cursor)


def _defer_deferred_by_default(cursor) -> None:
    cursor.execute(
        """SELECT quote_ident(n.nspname) || '.' || quote_ident(c.conname)
           FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
           WHERE c.condeferred AND n.nspname = ANY(current_schemas(false))"""
    )
    deferred = sorted({name for (name,) in cursor.fetchall()})
    if deferred:
        cursor.execute(f"SET CONSTRAINTS {', '.join(deferred)} DEFERRED")


@contextlib.contextmanager
def bulk_load(tables: list[str], *, lock_timeout_ms: int = 2000):
    """PostgreSQL, inside a transaction: load `tables` as pg_restore does, without their secondary indexes
    and foreign keys, and build those once at the end. Yields True when it does so.

    Inserting N rows one index entry and one deferred foreign-key check at a time costs far more than
    sorting them into fresh indexes and checking each key with one join (for a million people: ~24 s of
    server time against ~9 s). The price is an ACCESS EXCLUSIVE lock on `tables` until commit, so callers
    use it only for loads at least as large as the table.

    Yields False, and the caller inserts the ordinary way, when the current role does not own the tables, or
    when the lock is not granted within `lock_timeout_ms` (an open counter transaction holds the tables).
    Everything is transactional DDL: if the load fails, the rollback restores every index and constraint as
    it was. The rebuilt ones are the catalogue's own definitions, names included; building them re-checks
    uniqueness and foreign keys.
    """
    assert connection.vendor == "postgresql" and connection.in_atomic_block, "bulk_load: PostgreSQL, in a transaction"
    with connection.cursor() as cursor:
        if not _lock_for_bulk_load(cursor, tables, lock_timeout_ms):
            dependents = None
        else:
            _fire_pending_constraint_checks(cursor)
            dependents = _dependents(cursor, tables)
            for dependent in reversed(dependents):
                cursor.execute(dependent.drop)
    if dependents is None:
        yield False
        return
    yield True
    with connection.cursor() as cursor:
        for dependent in dependents:
            if dependent.kind == "index":
                cursor.execute(dependent.create)
            else:
                cursor.execute(f"ALTER TABLE {dependent.table} ADD CONSTRAINT {dependent.name} {dependent.create}")
        _defer_deferred_by_default(cursor)  # the re-added keys are new constraints, under "ALL IMMEDIATE"


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


class ModelColumns:
    """Every concrete column of `model` under a table alias, for a SELECT list, and the row slice → instance step."""

    def __init__(self, model, alias: str):
        self.model = model
        self.alias = alias
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


# --- Timestamps read by psycopg's C loader -------------------------------------------------------------------------


@functools.cache
def _c_timestamptz_loader():
    """A text timestamptz loader that parses in psycopg's C implementation and says which time zone it gives, as
    Django's own loader does (`timezone`, which Django's cursor compares with the connection's before using it).
    Made on first use: psycopg is only imported on PostgreSQL."""
    import datetime

    import psycopg
    from psycopg.adapt import Loader

    c_loader = psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, psycopg.pq.Format.TEXT)

    class CTimestamptzLoader(Loader):
        timezone = datetime.UTC

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._load = c_loader(oid, context).load

        def load(self, data):
            return self._load(data)

    return CTimestamptzLoader


def use_c_timestamptz_loader(sender, connection, **kwargs):
    """`connection_created`: on PostgreSQL with USE_TZ, read timestamptz columns with psycopg's C parser.

    Django's loader (`psycopg_any.BaseTzLoader`) parses in Python, then sets the tzinfo to UTC; psycopg's C loader
    gives the same aware datetimes in the session's time zone, which Django sets to UTC on every connection
    (`ensure_timezone`). Performance: 7.8 → 1.1 µs per timestamp (200 000 rows, docs/benchmarks.md, "The slower
    host"); an expenditure page reads about 250, the 100 000-line export one per line. Elsewhere (SQLite, USE_TZ off,
    a session in another time zone) Django's loader stays."""
    if connection.vendor != "postgresql" or not settings.USE_TZ:
        return
    if connection.connection.info.parameter_status("TimeZone") != "UTC":
        return
    connection.connection.adapters.register_loader("timestamptz", _c_timestamptz_loader())


# --- Prepared statements for the hot path ---------------------------------------------------------------------------


@functools.cache
def _prepared_cursor_type():
    """A psycopg cursor that binds parameters on the server and has every statement prepared (made once per connection,
    then reused by psycopg's per-connection cache). Built on first use: psycopg is only imported on PostgreSQL."""
    import psycopg
    from psycopg.adapt import Loader

    class JsonbAsText(Loader):
        """jsonb in binary as its text, as Django reads jsonb in text (JSONField parses it; psycopg_any)."""

        format = psycopg.pq.Format.BINARY

        def load(self, data):
            data = bytes(data)
            if data[:1] != b"\x01":  # the binary jsonb format's version
                raise psycopg.DataError(f"unknown jsonb binary format {data[:1]!r}")
            return data[1:].decode()

    class PreparedCursor(psycopg.Cursor):
        """Results in PostgreSQL's binary format, which psycopg's C loaders read, numbers and timestamps alike
        (performance: 0.46 M fewer Python instructions per settlement than text with Django's loaders,
        docs/benchmarks.md, "Sync workers")."""

        def __init__(self, connection, **kwargs):
            super().__init__(connection, **kwargs)
            self.adapters.register_loader("jsonb", JsonbAsText)

        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(
                query,
                params,
                prepare=True if prepare is None else prepare,
                binary=True if binary is None else binary,
            )

    return PreparedCursor


class _PreparedDebugCursor(CursorDebugWrapper):
    """Logs the statement with its values in, as for Django's own cursors (a prepared execution leaves psycopg no
    query text for `last_executed_query`). Only where queries are logged: DEBUG, tests."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params) if params else sql, params):
            return self._execute_with_wrappers(sql, params, many=False, executor=self._execute)


@contextlib.contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS):
    """A cursor for the few fixed statements every settlement (and every API request's token look-up) sends: on
    PostgreSQL each is parsed and planned once per connection and then only executed.

    Performance (docs/benchmarks.md, "Settlements"): planning, not running, is most of what these statements cost the
    server — the patient read with its payers and their policies 0.98 ms of PostgreSQL CPU unprepared against 0.15 ms
    prepared; the write of a settlement 0.55 ms. Django's own cursors keep client-side binding (every other query is
    unchanged, and DB_SERVER_SIDE_BINDING still turns prepared statements on for all of them).

    A statement is prepared by one extra round trip the first time a connection sends it, so this pays off with
    persistent connections (CONN_MAX_AGE, 60 s by default); with CONN_MAX_AGE=0 set DB_PREPARED_STATEMENTS=0.
    Behind PgBouncer in transaction mode this needs PgBouncer 1.21 or later with `max_prepared_statements` set; else
    set DB_PREPARED_STATEMENTS=0, and these statements go through ordinary cursors. SQLite: an ordinary cursor.
    Queries are logged like any other (connection.queries, assertNumQueries)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings.DB_PREPARED_STATEMENTS:
        with connection.cursor() as cursor:
            yield cursor
        return
    # What Django's connection.cursor() does before wrapping a cursor of its own.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw, kept = _kept_prepared_cursor(connection)
    cursor = _PreparedDebugCursor(raw, connection) if connection.queries_logged else connection.make_cursor(raw)
    try:
        yield cursor
    finally:
        if kept:
            connection._prepared_cursor_busy = False
        else:
            raw.close()


def _kept_prepared_cursor(connection):
    """The psycopg cursor this database connection keeps for its prepared statements, and True; or, while that one is
    in use by an enclosing `prepared_cursor` block, a cursor of its own (closed after its block), and False.

    Performance: each of a settlement's four prepared statements and the token look-up made and closed a psycopg
    cursor of its own; one cursor per connection is reused for all of them (psycopg cursors are reusable: each execute
    starts afresh, after an error too). A new database connection gets a new cursor."""
    kept = getattr(connection, "_prepared_cursor", None)
    if kept is None or kept.closed or kept.connection is not connection.connection:
        kept = connection._prepared_cursor = _prepared_cursor_type()(connection.connection)
        connection._prepared_cursor_busy = False
    if connection._prepared_cursor_busy:
        return _prepared_cursor_type()(connection.connection), False
    connection._prepared_cursor_busy = True
    return kept, True


def lock_by_pk(columns: "ModelColumns", ids, *, using: str = DEFAULT_DB_ALIAS) -> dict:
    """Lock rows of `columns.model` in primary-key order (Saleor's lock_objects): two transactions that need the same
    rows always ask for them in the same order, so they queue instead of deadlocking. Returns the locked rows as model
    instances by pk. A fixed SELECT … FOR UPDATE rather than a QuerySet built and compiled per call (performance of
    the settlement engine: 0.3–0.5 ms of Python per settlement). SQLite has no row locks: there, as with
    `select_for_update()`, the transaction's write lock serialises writers."""
    connection = connections[using]
    assert connection.in_atomic_block, "lock_by_pk needs an atomic block"
    ids = sorted(set(ids))
    if not ids:
        return {}
    pk = columns.model._meta.pk.column
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f'SELECT {columns.sql} FROM "{columns.model._meta.db_table}" {columns.alias} '  # noqa: S608 - names from meta
        f'WHERE {columns.alias}."{pk}" IN ({", ".join(["%s"] * len(ids))}) ORDER BY {columns.alias}."{pk}"{lock}'
    )
    with prepared_cursor(using) as cursor:
        cursor.execute(sql, ids)
        rows = cursor.fetchall()
    return {row.pk: row for row in (columns.load(row, 0, connection) for row in rows)}


# --- Several writes in one round trip -------------------------------------------------------------------------------

_PARENT_CTE = "parent_row"


class _ParentId:
    """Stands in a child's foreign key for the id the parent's INSERT returns, inside insert_together's statement."""

    def __init__(self, pk_column: str):
        self.sql = f'(SELECT "{pk_column}" FROM "{_PARENT_CTE}")'  # noqa: S608 - a column name from model meta


_insert_shapes: dict = {}


def _insert_statement(objs: list, connection, *, returning_pk: bool) -> tuple[str, list]:
    """The INSERT that `bulk_create(objs)` (or, for one object and `returning_pk`, `save()`) sends: the same
    columns, each value through the field's own `pre_save(obj, add=True)` (auto_now_add) and `get_db_prep_save`, as
    Django's insert compiler does, but without building and compiling an InsertQuery: the SQL of each shape (model,
    rows, where the parent's id goes) is made once (performance: 0.4 ms of Python per settlement). Fields that choose
    their own placeholder (`get_placeholder`) are not handled here; none of the models written this way has one."""
    opts = objs[0]._meta
    fields = [f for f in opts.concrete_fields if not f.generated and f is not opts.auto_field]
    params, shape = [], []
    for obj in objs:
        for field in fields:
            value = field.pre_save(obj, True)
            if isinstance(value, _ParentId):
                shape.append(value.sql)
            else:
                shape.append(None)
                params.append(field.get_db_prep_save(value, connection))
    key = (opts.label, connection.vendor, returning_pk, tuple(shape))
    sql = _insert_shapes.get(key)
    if sql is None:
        assert not any(hasattr(field, "get_placeholder") for field in fields), f"{opts.label}: custom placeholders"
        quote = connection.ops.quote_name
        width = len(fields)
        rows = [
            "(" + ", ".join(part or "%s" for part in shape[start : start + width]) + ")"
            for start in range(0, len(shape), width)
        ]
        columns = ", ".join(quote(f.column) for f in fields)
        sql = f"INSERT INTO {quote(opts.db_table)} ({columns}) VALUES {', '.join(rows)}"  # noqa: S608 - names from meta
        if returning_pk:
            sql += f" RETURNING {quote(opts.db_table)}.{quote(opts.pk.column)}"
        if len(_insert_shapes) < 1000:  # a handful of shapes in practice; never unbounded
            _insert_shapes[key] = sql
    return sql, params


def insert_together(parent, children=(), updates=(), *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert `parent` (an unsaved row), then `children` (unsaved rows, of any models, whose foreign keys may point to
    `parent`), then run `updates` (`(sql, params)` pairs), inside the caller's transaction.

    On PostgreSQL this is one statement, one round trip (data-modifying WITH clauses, the children taking the parent's
    new id from its RETURNING): performance of the settlement engine, whose settlement row, ledger entries and balance
    updates were three round trips or more, all under the accounts' row locks. Elsewhere it is `save()`,
    `bulk_create()` per model and the updates, one after the other. Either way every constraint and trigger applies as
    for the ORM's own writes (a failure raises the usual IntegrityError and writes nothing of the statement), and
    afterwards the instances look as if saved: `parent.pk`, the children's pks and their foreign keys to `parent`."""
    connection = connections[using]
    assert connection.in_atomic_block, "insert_together needs the caller's transaction"
    children = list(children)
    if connection.vendor != "postgresql":
        parent.save(force_insert=True, using=using)
        by_model: dict = {}
        for child in children:
            by_model.setdefault(type(child), []).append(child)
        for model, objs in by_model.items():
            model._default_manager.db_manager(using).bulk_create(objs)
        with connection.cursor() as cursor:
            for sql, params in updates:
                cursor.execute(sql, params)
        return
    # Each child's foreign keys that point to the parent (by its cached related object) take its id from the CTE.
    # Identifiers only (a CTE name, a column from model meta); every value is a parameter.
    parent_pk = parent._meta.pk.column
    parent_id = _ParentId(parent_pk)
    links = []
    for child in children:
        for field in child._meta.concrete_fields:
            if field.many_to_one and field.is_cached(child) and field.get_cached_value(child) is parent:
                links.append((child, field))
                setattr(child, field.attname, parent_id)
    groups: dict = {}
    for child in children:
        groups.setdefault(type(child), []).append(child)
    try:
        parts, params = [], []
        sql, values = _insert_statement([parent], connection, returning_pk=True)
        parts.append(f'"{_PARENT_CTE}" AS ({sql})')
        params += values
        selects = [f'SELECT 0, "{parent_pk}" FROM "{_PARENT_CTE}"']  # noqa: S608
        for index, objs in enumerate(groups.values(), start=1):
            sql, values = _insert_statement(objs, connection, returning_pk=False)
            pk = objs[0]._meta.pk
            parts.append(f'"children_{index}" AS ({sql} RETURNING "{pk.column}")')
            params += values
            selects.append(f'SELECT {index}, "{pk.column}" FROM "children_{index}"')  # noqa: S608
        for index, (sql, values) in enumerate(updates):
            parts.append(f'"update_{index}" AS ({sql})')
            params += values
        statement = f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)}"
        with prepared_cursor(using) as cursor:
            cursor.execute(statement, params)
            rows = cursor.fetchall()
    except BaseException:
        _relink(links, parent)
        raise
    ids: dict[int, list] = {}
    for part, pk in rows:
        ids.setdefault(part, []).append(pk)
    parent.pk = ids[0][0]
    parent._state.adding, parent._state.db = False, using
    for index, objs in enumerate(groups.values(), start=1):
        for obj, pk in zip(objs, ids.get(index, []), strict=True):  # RETURNING gives rows in VALUES order
            obj.pk = pk
            obj._state.adding, obj._state.db = False, using
    _relink(links, parent)


def _relink(links, parent) -> None:
    # Setting a foreign key's attname to another value drops the cached related object; put both back.
    for child, field in links:
        setattr(child, field.attname, parent.pk)
        field.set_cached_value(child, parent)
