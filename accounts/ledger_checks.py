"""Recompute every personal account from its ledger entries (set-based: two queries whatever the size)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from accounts.models import LedgerEntry, PersonalAccount


@dataclass(frozen=True)
class LedgerMismatch:
    account_id: int
    kind: str  # "balance" (cached balance ≠ sum of entries) or "running" (an entry's balance_after is wrong)
    expected: Decimal
    found: Decimal
    entry_id: int | None = None


def ledger_mismatches(limit: int = 1000) -> list[LedgerMismatch]:
    """Accounts whose balance differs from the sum of their entries, and entries whose balance_after
    differs from the running sum (entries are appended under the account's row lock, so id order is
    the order they were applied in). Compared rounded to the cent because SQLite sums decimals in floating
    point; PostgreSQL's numeric is exact either way."""
    account = PersonalAccount._meta.db_table
    entry = LedgerEntry._meta.db_table
    found: list[LedgerMismatch] = []
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.id, ROUND(COALESCE(s.total, 0), 2), a.balance
            FROM {account} a
            LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM {entry} GROUP BY account_id) s
              ON s.account_id = a.id
            WHERE ROUND(a.balance, 2) <> ROUND(COALESCE(s.total, 0), 2)
            ORDER BY a.id
            LIMIT %s
            """,  # noqa: S608 - table names come from model meta, not input
            [limit],
        )
        found += [LedgerMismatch(row[0], "balance", Decimal(row[1]), Decimal(row[2])) for row in cursor.fetchall()]
        cursor.execute(
            f"""
            SELECT account_id, id, ROUND(running, 2), balance_after FROM (
              SELECT account_id, id, balance_after,
                     SUM(amount) OVER (PARTITION BY account_id ORDER BY id ROWS UNBOUNDED PRECEDING) AS running
              FROM {entry}
            ) r
            WHERE ROUND(running, 2) <> ROUND(balance_after, 2)
            ORDER BY account_id, id
            LIMIT %s
            """,  # noqa: S608
            [limit],
        )
        found += [
            LedgerMismatch(row[0], "running", Decimal(row[2]), Decimal(row[3]), entry_id=row[1])
            for row in cursor.fetchall()
        ]
    return found
