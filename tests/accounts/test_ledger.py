"""The ledger is the only way a balance changes; the database itself guards it (style.md #4)."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError

from accounts.models import LedgerEntry, LedgerEntryKind, PersonalAccount
from accounts.reasons import BusinessRuleError
from accounts.services import account_credit, account_debit, ledger_entry_reverse
from tests import factories
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return factories.person(balance="100.00").account


def test_credit_and_debit_write_entries_with_balance_after(account):
    credit = account_credit(account=account, amount="20.50", kind=LedgerEntryKind.ALLOCATION)
    debit = account_debit(account=account, amount="70.50", kind=LedgerEntryKind.OWN_PAYMENT)
    assert (credit.balance_after, debit.balance_after) == (Decimal("120.50"), Decimal("50.00"))
    assert debit.amount == Decimal("-70.50")
    account.refresh_from_db()
    assert account.balance == Decimal("50.00") == sum(e.amount for e in account.entries.all())


def test_debit_below_zero_is_refused_and_writes_nothing(account):
    count = LedgerEntry.objects.count()
    with pytest.raises(BusinessRuleError) as error:
        account_debit(account=account, amount="100.01", kind=LedgerEntryKind.OWN_PAYMENT)
    assert error.value.code == "BALANCE_WOULD_BE_NEGATIVE"
    assert LedgerEntry.objects.count() == count
    account.refresh_from_db()
    assert account.balance == Decimal("100.00")


@pytest.mark.parametrize("amount", ["0.001", "1.234"])
def test_amounts_with_more_than_two_places_are_refused(account, amount):
    with pytest.raises(ValueError, match="two decimal places"):
        account_credit(account=account, amount=amount)


def test_negative_adjustment_never_below_zero(account):
    account_credit(account=account, amount="-40.00", kind=LedgerEntryKind.ADJUSTMENT)
    with pytest.raises(BusinessRuleError):
        account_credit(account=account, amount="-60.01", kind=LedgerEntryKind.ADJUSTMENT)


def test_mistake_corrected_by_reversing_entry_not_by_editing(account):
    debit = account_debit(account=account, amount="30.00", kind=LedgerEntryKind.OWN_PAYMENT)
    reversal = ledger_entry_reverse(entry=debit, note="误扣冲正")
    assert reversal.amount == Decimal("30.00") and reversal.reverses == debit
    assert reversal.kind == LedgerEntryKind.REFUND
    with pytest.raises(BusinessRuleError):
        ledger_entry_reverse(entry=debit)


def test_database_refuses_update_of_a_ledger_row(account):
    entry = account.entries.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(note="edited")


def test_database_refuses_delete_of_a_ledger_row(account):
    entry = account.entries.first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LedgerEntry._meta.db_table} WHERE id = %s", [entry.pk])  # noqa: S608


def test_database_refuses_negative_balance(account):
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonalAccount.objects.filter(pk=account.pk).update(balance=Decimal("-0.01"))


def test_database_refuses_negative_balance_after(account):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=account, kind=LedgerEntryKind.ADJUSTMENT, amount=Decimal("-200"),
            balance_after=Decimal("-100"), occurred_at=factories.now(),
        )


def test_database_refuses_a_debit_kind_with_positive_amount(account):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(
            account=account, kind=LedgerEntryKind.OWN_PAYMENT, amount=Decimal("5"),
            balance_after=Decimal("105"), occurred_at=factories.now(),
        )


def test_verify_ledger_clean_then_reports_a_mismatch(account):
    out = io.StringIO()
    call_command("verify_ledger", stdout=out)
    assert "全部一致" in out.getvalue()
    # Go around the services: the cached balance no longer equals the entries.
    PersonalAccount.objects.filter(pk=account.pk).update(balance=Decimal("99.00"))
    err = io.StringIO()
    with pytest.raises(CommandError, match="不一致"):
        call_command("verify_ledger", stdout=io.StringIO(), stderr=err)
    assert f"账户 {account.pk}" in err.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_debits_never_overdraw():
    """Twenty threads each try to take 10.00 from a 100.00 account at once: exactly ten succeed."""
    account = factories.person(balance="100.00").account

    def pay():
        account_debit(account=PersonalAccount.objects.get(pk=account.pk), amount="10.00",
                      kind=LedgerEntryKind.OWN_PAYMENT)
        return "ok"

    results = ["refused" if isinstance(r, BusinessRuleError) else r for r in run_together([pay] * 20)]
    account.refresh_from_db()
    assert results.count("ok") == 10 and results.count("refused") == 10
    assert account.balance == Decimal("0.00")
    call_command("verify_ledger", stdout=io.StringIO())
