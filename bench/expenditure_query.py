"""Expenditure query and export benchmark on PostgreSQL, in a ledger of 10 million rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ma_settle .venv/bin/python bench/expenditure_query.py \
        [--rows 10000000] [--target-lines 2000] [--export-rows 100000] [--samples 200] [--covering-index]

Seeds `--rows` ledger entries directly in SQL (INSERT ... SELECT generate_series; the append-only triggers refuse
UPDATE and DELETE, not INSERT), the way an append-only ledger grows: entries of every account interleaved in time
order, so one grantor's lines are spread over the whole table. Of them:
  - the "target" grantor: every 5000th row, i.e. `--rows`/5000 mutual-aid payments (2 000 for 10 M rows: a
    realistic grantor paying for 5 members) plus 20 refunds of some of them;
  - the "heavy" grantor: every 100th row (100 000 for 10 M rows, 10 members): the export and a worst case;
  - the rest: 4 998 other accounts with allocations, own payments and mutual-aid payments (40 % / 35 % / 25 %).
Then VACUUM ANALYZE. Measures, for the target and the heavy grantor:
  - p50/p95 of `expenditure_list` first page (50 lines) + `expenditure_totals` (what GET persons/{no}/expenditures
    runs) for random one-month ranges and for the whole history;
  - p50/p95 of the whole API request `GET persons/{no}/expenditures` in process (Django test client: auth, person,
    totals, page, JSON), whole history;
  - EXPLAIN (ANALYZE, BUFFERS) of the totals and the page for the target's whole history;
  - a streamed CSV export of `--export-rows` lines of the heavy grantor: wall time, max RSS, peak Python memory.
`--covering-index` then adds the index proposed in docs/benchmarks.md (not in the models) and measures again.
Prints JSON. Drops and re-creates the database first (scratch database only).
"""

import argparse
import datetime
import json
import os
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

START = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
SPAN_DAYS = 730


def seed(rows: int):
    """Returns (target grantor, heavy grantor)."""
    from django.db import connection, transaction

    from tests import factories

    factories.policy("320000", spouse_confirmation=False, single_relationship=False)
    region = factories.region("320500", "苏州市")
    institution = factories.institution(code="HBENCH02", region=region)
    target = factories.grantor(name="王常客", balance="1000000.00")
    target_members = [factories.resident(name=f"常客家属{i}") for i in range(5)]
    for member in target_members:
        factories.authorization(target, member, "child")
    heavy = factories.grantor(name="王大户", balance="100000000.00")
    heavy_members = [factories.resident(name=f"成员{i}") for i in range(10)]
    for member in heavy_members:
        factories.authorization(heavy, member, "child")
    others_member = factories.resident(name="其他家属")
    with transaction.atomic(), connection.cursor() as cursor:
        # 4 998 other employee-insured people with accounts (ID numbers of the right shape, 99 + 16 digits).
        cursor.execute(
            """
            INSERT INTO accounts_person (person_no, id_number, name, sex, birth_date, insurance_type,
                insurance_status, region_id, category, phone, created_at, updated_at)
            SELECT 'BENCH' || g, '99' || lpad(g::text, 16, '0'), '背景' || g, '1', DATE '1970-01-01', '310',
                'normal', '320500', '', '', now(), now()
            FROM generate_series(1, 4998) g
            """
        )
        cursor.execute(
            """
            INSERT INTO accounts_personalaccount (person_id, balance, opened_at)
            SELECT id, 1000000.00, now() FROM accounts_person WHERE person_no LIKE 'BENCH%%'
            """
        )
        # Load faster: the other indexes are dropped and rebuilt after the load (constraints stay), and the
        # deferred foreign-key triggers are skipped for this session only (every key written here exists).
        cursor.execute(
            """
            SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'accounts_ledgerentry'
            AND indexname NOT IN (SELECT conname FROM pg_constraint)
            """
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            """
            WITH ids AS (
                SELECT (SELECT array_agg(a.id ORDER BY a.id) FROM accounts_personalaccount a
                        JOIN accounts_person p ON p.id = a.person_id WHERE p.person_no LIKE 'BENCH%%') AS others,
                       %(target_members)s::bigint[] AS target_members,
                       %(heavy_members)s::bigint[] AS heavy_members
            ), rows AS (
                SELECT g,
                    CASE WHEN g %% 100 = 0 THEN %(heavy)s
                         WHEN g %% 5000 = 1 THEN %(target)s
                         ELSE ids.others[1 + g %% 4998] END AS account_id,
                    CASE WHEN g %% 100 = 0 OR g %% 5000 = 1 THEN 'mutual_aid_payment'
                         WHEN g %% 20 < 8 THEN 'allocation'
                         WHEN g %% 20 < 15 THEN 'own_payment'
                         ELSE 'mutual_aid_payment' END AS kind,
                    ((g * 7919) %% 4900 + 100) / 100.0 AS amount,
                    CASE WHEN g %% 100 = 0 THEN ids.heavy_members[1 + (g / 100) %% 10]
                         WHEN g %% 5000 = 1 THEN ids.target_members[1 + (g / 5000) %% 5]
                         ELSE %(others_member)s END AS member_id
                FROM generate_series(1::bigint, %(rows)s::bigint) g, ids
            )
            INSERT INTO accounts_ledgerentry (account_id, kind, amount, balance_after, occurred_at, reference, note,
                created_at, created_by_id, institution_id, reverses_id, settlement_id, member_id)
            SELECT account_id, kind, CASE WHEN kind = 'allocation' THEN amount ELSE -amount END, 500000.00,
                %(start)s::timestamptz + (g::float8 / %(rows)s) * interval '%(span)s days', NULL, '', now(), NULL,
                %(institution)s, NULL, NULL, CASE WHEN kind = 'mutual_aid_payment' THEN member_id END
            FROM rows
            """,
            {
                "rows": rows,
                "span": SPAN_DAYS,
                "start": START,
                "heavy": heavy.account.pk,
                "target": target.account.pk,
                "target_members": [m.pk for m in target_members],
                "heavy_members": [m.pk for m in heavy_members],
                "others_member": others_member.pk,
                "institution": institution.pk,
            },
        )
        # 20 of the target's payments refunded a day later (a refund line of its own, the payment marked reversed).
        cursor.execute(
            """
            INSERT INTO accounts_ledgerentry (account_id, kind, amount, balance_after, occurred_at, reference, note,
                created_at, created_by_id, institution_id, reverses_id, settlement_id, member_id)
            SELECT account_id, 'refund', -amount, 500000.00, occurred_at + interval '1 day', NULL, 'bench', now(),
                NULL, institution_id, id, NULL, member_id
            FROM accounts_ledgerentry WHERE account_id = %s AND kind = 'mutual_aid_payment' ORDER BY id LIMIT 20
            """,
            [target.account.pk],
        )
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for _, definition in indexes:
            cursor.execute(definition)
    connection.cursor().execute("VACUUM ANALYZE accounts_ledgerentry")
    return target, heavy


def plan_lines(sql_and_params) -> list[str]:
    from django.db import connection

    sql, params = sql_and_params
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        return [row[0] for row in cursor.fetchall()]


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--covering-index", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="measure the database seeded by an earlier run")
    args = parser.parse_args()
    assert "postgres" in os.environ.get("DATABASE_URL", ""), "set DATABASE_URL to a scratch PostgreSQL database"
    from settle_load import fresh_database, machine

    host = machine()
    if args.reuse:
        from settle_load import setup_django

        setup_django()
    else:
        fresh_database()
    from django.db import connection
    from django.test import Client

    from accounts.models import LedgerEntry, Person
    from settlements.resources import ExpenditureResource
    from settlements.selectors import expenditure_list, expenditure_totals
    from tests import factories

    started = time.perf_counter()
    if args.reuse:
        target, heavy = Person.objects.get(name="王常客"), Person.objects.get(name="王大户")
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS ledger_mutual_aid_cover_idx")
    else:
        target, heavy = seed(args.rows)
    seeded = time.perf_counter() - started
    _, token = factories.api_client(role="staff", name=f"bench-staff-{time.time_ns()}")
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('accounts_ledgerentry')) FROM accounts_ledgerentry"
        )
        table_rows, table_size = cursor.fetchone()

    def timed(grantor, start, end):
        grantor = Person.objects.select_related("account").get(pk=grantor.pk)  # as person_or_404 loads it
        t0 = time.perf_counter()
        page = list(expenditure_list(grantor=grantor, start=start, end=end)[:50])
        totals = expenditure_totals(grantor=grantor, start=start, end=end)
        assert len(page) <= 50 and totals.count >= len(page)
        return (time.perf_counter() - t0) * 1000

    def api_ms(grantor):
        t0 = time.perf_counter()
        response = api.get(f"/api/v1/persons/{grantor.person_no}/expenditures")
        assert response.status_code == 200, response.content[:200]
        return (time.perf_counter() - t0) * 1000

    def summary(values):
        return {
            "p50": round(percentile(values, 0.5), 1),
            "p95": round(percentile(values, 0.95), 1),
            "samples": len(values),
        }

    def measure(grantor, samples):
        month = []
        for _ in range(samples):
            start = START + datetime.timedelta(days=random.randint(0, SPAN_DAYS - 31))
            month.append(timed(grantor, start, start + datetime.timedelta(days=31)))
        whole = [timed(grantor, None, None) for _ in range(max(10, samples // 4))]
        api_whole = [api_ms(grantor) for _ in range(max(10, samples // 4))]
        lines = expenditure_totals(grantor=grantor).count
        return {
            "lines": lines,
            "month_range_page_plus_totals_ms": summary(month),
            "whole_history_page_plus_totals_ms": summary(whole),
            "api_get_expenditures_whole_history_ms": summary(api_whole),
        }

    def plans(grantor):
        from settlements.selectors import _expenditure_rows

        grantor = Person.objects.select_related("account").get(pk=grantor.pk)
        rows = _expenditure_rows(grantor, None, None).order_by().values("id")  # what the totals aggregate reads
        return {
            "totals_rows": plan_lines(rows.query.sql_with_params()),
            "page": plan_lines(expenditure_list(grantor=grantor)[:50].query.sql_with_params()),
        }

    results = {
        "machine": host,
        "ledger_rows_in_table": table_rows,
        "ledger_table_size": table_size,
        "seed_s": round(seeded, 1),
        "target": measure(target, args.samples),
        "heavy": measure(heavy, max(20, args.samples // 10)),
        "plans_target": plans(target),
    }
    if args.covering_index:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE INDEX ledger_mutual_aid_cover_idx ON accounts_ledgerentry (account_id, occurred_at, id) "
                "INCLUDE (kind, amount, reverses_id) WHERE kind IN ('mutual_aid_payment', 'refund')"
            )
            cursor.execute("VACUUM ANALYZE accounts_ledgerentry")
        results["with_covering_index"] = {
            "target": measure(target, args.samples),
            "heavy": measure(heavy, max(20, args.samples // 10)),
            "plans_target": plans(target),
        }

    # CSV export of the heavy grantor's newest `export_rows` lines, streamed as the admin does.
    import csv

    class Sink:
        size = 0

        def write(self, value):
            self.size += len(value.encode())

    sink = Sink()
    writer = csv.writer(sink)
    lines = expenditure_list(grantor=heavy).filter(
        pk__in=LedgerEntry.objects.filter(account__person=heavy, kind="mutual_aid_payment")
        .order_by("-occurred_at", "-id")
        .values("pk")[: args.export_rows]
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    count = 0
    for row in ExpenditureResource().rows(lines):
        writer.writerow(row)
        count += 1
    export_s = time.perf_counter() - t0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Peak Python allocations, measured apart (tracemalloc slows the loop several times): first 20 000 lines.
    tracemalloc.start()
    for n, row in enumerate(ExpenditureResource().rows(lines)):
        writer.writerow(row)
        if n == 20_000:
            break
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results["csv_export"] = {
        "lines": count - 1,
        "seconds": round(export_s, 1),
        "lines_per_s": round((count - 1) / export_s),
        "bytes": sink.size,
        "max_rss_mb_before": round(rss_before / 1024, 1),
        "max_rss_mb_after": round(rss_after / 1024, 1),
        "peak_python_mb_first_20k_lines": round(peak / 2**20, 1),
    }
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
