"""Expenditure query and export benchmark on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ma_settle .venv/bin/python bench/expenditure_query.py \
        [--rows 200000] [--export-rows 100000] [--samples 200]

Seeds one grantor whose account holds `--rows` mutual-aid payment entries (bulk inserted, consistent
balance_after, spread over two years, 10 members), plus 200 other grantors with 50 entries each, then measures:
  - p50/p95 of `expenditure_list` first page (50 lines) + `expenditure_totals` for random one-month ranges and for
    the whole history (what GET persons/{no}/expenditures runs);
  - a streamed CSV export of `--export-rows` lines: wall time and peak Python memory (tracemalloc), bytes written.
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
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def seed(rows: int):
    from django.db import connection

    from accounts.models import LedgerEntry, PersonalAccount
    from tests import factories

    factories.policy("320000", spouse_confirmation=False)
    region = factories.region("320500", "苏州市")
    institution = factories.institution(code="HBENCH02", region=region)
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    span = 730 * 86400

    def fill(grantor, members, count, opening):
        account = PersonalAccount.objects.get(person=grantor)
        balance = opening
        batch = []
        for i in range(count):
            amount = Decimal(random.randint(100, 5000)) / 100
            balance -= amount
            batch.append(
                LedgerEntry(
                    account=account,
                    kind="mutual_aid_payment",
                    amount=-amount,
                    balance_after=balance,
                    occurred_at=start + datetime.timedelta(seconds=span * i // count + 1),
                    member=members[i % len(members)],
                    institution=institution,
                )
            )
            if len(batch) == 5000:
                LedgerEntry.objects.bulk_create(batch)
                batch = []
        LedgerEntry.objects.bulk_create(batch)
        PersonalAccount.objects.filter(pk=account.pk).update(balance=balance)

    big = factories.grantor(name="王大户", balance="100000000.00")
    members = [factories.resident(name=f"成员{i}") for i in range(10)]
    for member in members:
        factories.authorization(big, member, "child")
    fill(big, members, rows, Decimal("100000000.00"))
    for i in range(200):
        grantor = factories.grantor(name=f"王{i}", balance="100000.00")
        member = factories.resident(name=f"李{i}")
        factories.authorization(grantor, member, "parent")
        fill(grantor, [member], 50, Decimal("100000.00"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_ledgerentry")
    return big


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    assert "postgres" in os.environ.get("DATABASE_URL", ""), "set DATABASE_URL to a scratch PostgreSQL database"
    from settle_load import fresh_database

    fresh_database()
    from accounts.models import LedgerEntry
    from settlements.resources import ExpenditureResource
    from settlements.selectors import expenditure_list, expenditure_totals

    started = time.perf_counter()
    grantor = seed(args.rows)
    seeded = time.perf_counter() - started

    def timed(start, end):
        t0 = time.perf_counter()
        page = list(expenditure_list(grantor=grantor, start=start, end=end)[:50])
        totals = expenditure_totals(grantor=grantor, start=start, end=end)
        assert len(page) <= 50 and totals.count >= len(page)
        return (time.perf_counter() - t0) * 1000

    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    month_ms = []
    for _ in range(args.samples):
        start = base + datetime.timedelta(days=random.randint(0, 700))
        month_ms.append(timed(start, start + datetime.timedelta(days=31)))
    whole_ms = [timed(None, None) for _ in range(max(10, args.samples // 10))]

    # CSV export of the newest `export_rows` lines, streamed as the admin does.
    import csv

    class Sink:
        size = 0

        def write(self, value):
            self.size += len(value.encode())

    sink = Sink()
    writer = csv.writer(sink)
    lines = expenditure_list(grantor=grantor).filter(
        pk__in=LedgerEntry.objects.filter(account__person=grantor, kind="mutual_aid_payment")
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

    print(
        json.dumps(
            {
                "ledger_rows_for_grantor": args.rows,
                "seed_s": round(seeded, 1),
                "month_range_page_plus_totals_ms": {
                    "p50": round(percentile(month_ms, 0.5), 1),
                    "p95": round(percentile(month_ms, 0.95), 1),
                    "samples": len(month_ms),
                },
                "whole_history_page_plus_totals_ms": {
                    "p50": round(percentile(whole_ms, 0.5), 1),
                    "p95": round(percentile(whole_ms, 0.95), 1),
                    "samples": len(whole_ms),
                },
                "csv_export": {
                    "lines": count - 1,
                    "seconds": round(export_s, 1),
                    "lines_per_s": round((count - 1) / export_s),
                    "bytes": sink.size,
                    "max_rss_mb_before": round(rss_before / 1024, 1),
                    "max_rss_mb_after": round(rss_after / 1024, 1),
                    "peak_python_mb_first_20k_lines": round(peak / 2**20, 1),
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
