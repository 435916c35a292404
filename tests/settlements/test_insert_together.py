"""`accounts.db.insert_together`, the settlement engine's write: a settlement, its lines, ledger entries and balance
updates in one statement on PostgreSQL, one by one elsewhere. Either way the rows, keys and constraints are those of
the ORM's own save() / bulk_create(), and a failure writes nothing."""

from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.sql import InsertQuery
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.db import _insert_statement, insert_together
from accounts.models import LedgerEntry, LedgerEntryKind, PersonalAccount
from accounts.services import accounts_lock
from bindings.models import Kinship
from settlements.models import ItemKind, Settlement, SettlementItem
from tests import factories
from tests.settlements.helpers import settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(institution_api, jiangsu_policy):
    """A settlement written by the engine, to copy from."""
    grantor = factories.grantor(balance="500.00")
    member = factories.resident()
    factories.authorization(grantor, member, Kinship.PARENT)
    response = settle(institution_api, member)
    return Settlement.objects.get(pk=response.json()["id"])


def copy_of(settlement: Settlement, external_id: str) -> Settlement:
    fields = {f.attname: getattr(settlement, f.attname) for f in Settlement._meta.concrete_fields}
    fields.update(id=None, external_id=external_id, created_at=None)
    return Settlement(**fields)


def entry(account, settlement, amount: str, balance_after: str) -> LedgerEntry:
    return LedgerEntry(
        account=account,
        kind=LedgerEntryKind.MUTUAL_AID_PAYMENT,
        amount=Decimal(amount),
        balance_after=Decimal(balance_after),
        settlement=settlement,
        institution=settlement.institution,
        member=settlement.patient,
        occurred_at=settlement.occurred_at,
    )


def balance_update(account, balance: str):
    return ('UPDATE "accounts_personalaccount" SET "balance" = %s WHERE "id" = %s', [Decimal(balance), account.pk])


def test_writes_the_rows_save_and_bulk_create_write_and_sets_their_keys(stored):
    account = stored.ledger_entries.get().account
    settlement = copy_of(stored, "TOGETHER-1")
    items = [
        SettlementItem(
            settlement=settlement, name="阿莫西林", kind=ItemKind.DRUG, amount=Decimal("20.00"), eligible=True
        ),
        SettlementItem(
            settlement=settlement, name="血压计", kind=ItemKind.DEVICE, amount=Decimal("40.00"), eligible=False
        ),
    ]
    entries = [entry(account, settlement, "-10.00", "430.00"), entry(account, settlement, "-5.00", "425.00")]
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        accounts_lock([account.pk])
        insert_together(settlement, [*items, *entries], [balance_update(account, "425.00")])
    assert len(queries) == (2 if connection.vendor == "postgresql" else 5)  # lock + one statement; or one by one

    assert settlement.pk and not settlement._state.adding
    assert Settlement.objects.get(pk=settlement.pk).external_id == "TOGETHER-1"
    assert [i.pk for i in items] == list(settlement.items.order_by("pk").values_list("pk", flat=True))
    assert [e.pk for e in entries] == list(
        LedgerEntry.objects.filter(settlement=settlement).order_by("pk").values_list("pk", flat=True)
    )
    for child in [*items, *entries]:
        assert child.settlement_id == settlement.pk and child.settlement is settlement  # no query: still cached
    assert PersonalAccount.objects.get(pk=account.pk).balance == Decimal("425.00")
    # Field for field what the ORM reads back, created_at (auto_now_add) included.
    for mine in entries:
        assert model_to_dict(LedgerEntry.objects.get(pk=mine.pk)) == model_to_dict(mine)
    assert Settlement.objects.get(pk=settlement.pk).created_at == settlement.created_at


def test_a_failing_row_writes_nothing_and_leaves_the_objects_unsaved(stored):
    account = stored.ledger_entries.get().account
    before = (Settlement.objects.count(), LedgerEntry.objects.count(), SettlementItem.objects.count())
    settlement = copy_of(stored, "TOGETHER-2")
    item = SettlementItem(
        settlement=settlement, name="阿莫西林", kind=ItemKind.DRUG, amount=Decimal("20.00"), eligible=True
    )
    bad = entry(account, settlement, "0.00", "440.00")  # ledger_amount_not_zero
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_together(settlement, [item, bad], [balance_update(account, "1.00")])
    assert (Settlement.objects.count(), LedgerEntry.objects.count(), SettlementItem.objects.count()) == before
    assert PersonalAccount.objects.get(pk=account.pk).balance == Decimal("440.00")
    assert bad.settlement is settlement and item.settlement is settlement


def test_a_duplicate_settlement_key_writes_no_ledger_entry(stored):
    account = stored.ledger_entries.get().account
    entries_before = LedgerEntry.objects.count()
    duplicate = copy_of(stored, stored.external_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_together(duplicate, [entry(account, duplicate, "-1.00", "439.00")], [balance_update(account, "439.00")])
    assert LedgerEntry.objects.count() == entries_before
    assert PersonalAccount.objects.get(pk=account.pk).balance == Decimal("440.00")


def _comparable(params):
    # psycopg's Jsonb wrapper has no equality of its own.
    return [("jsonb", value.obj) if hasattr(value, "obj") else value for value in params]


@pytest.mark.parametrize("returning_pk", [True, False])
def test_insert_sql_is_what_djangos_insert_compiler_makes(stored, returning_pk):
    """`_insert_statement` makes the INSERT Django's compiler makes for save() / a one-row bulk_create()."""
    settlement = copy_of(stored, "SQL-1")
    entry_of = entry(stored.ledger_entries.get().account, stored, "-1.00", "439.00")
    stamp = timezone.now()
    for obj in (settlement, entry_of):
        with mock.patch("django.utils.timezone.now", return_value=stamp):  # auto_now_add: the same moment for both
            mine_sql, mine_params = _insert_statement([obj], connection, returning_pk=returning_pk)
        opts = obj._meta
        query = InsertQuery(opts.model)
        query.insert_values([f for f in opts.concrete_fields if f is not opts.auto_field], [obj])
        compiler = query.get_compiler(connection=connection)
        compiler.returning_fields = [opts.pk] if returning_pk else None
        with mock.patch("django.utils.timezone.now", return_value=stamp):
            ((django_sql, django_params),) = compiler.as_sql()
        assert mine_sql == django_sql
        assert _comparable(mine_params) == _comparable(django_params)
