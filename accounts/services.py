"""Every write to people and personal accounts.

The ledger is the only way a balance changes: `account_credit` and `account_debit` lock the
account row, refuse to go below zero, write an entry with `balance_after` and update the cached
balance in the same transaction. Nothing edits or deletes an entry; a mistake is corrected by a
reversing entry (`ledger_entry_reverse`).
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from accounts.db import ModelColumns, insert_together, lock_by_pk
from accounts.divisions import PROVINCES
from accounts.id_numbers import normalize_id_number, parse_id_number
from accounts.models import (
    CREDIT_KINDS,
    DEBIT_KINDS,
    ZERO,
    InsuranceStatus,
    InsuranceType,
    LedgerEntry,
    LedgerEntryKind,
    Person,
    PersonalAccount,
    Region,
)
from accounts.reasons import BusinessRuleError, Reason

CENT = Decimal("0.01")


def money(value) -> Decimal:
    """Two-place Decimal; refuses more places instead of silently rounding."""
    amount = Decimal(str(value))
    if amount != amount.quantize(CENT):
        raise ValueError("amount has more than two decimal places")
    return amount.quantize(CENT)


# --- Ledger ----------------------------------------------------------------------------------------


_ACCOUNT_COLUMNS = ModelColumns(PersonalAccount, "a")


def accounts_lock(account_ids) -> dict[int, PersonalAccount]:
    """Lock personal accounts in primary-key order (no deadlock when a member and a grantor settle at once)."""
    return lock_by_pk(_ACCOUNT_COLUMNS, account_ids)


_BALANCE_FIELD = PersonalAccount._meta.get_field("balance")
_ACCOUNT_TABLE, _ACCOUNT_PK = PersonalAccount._meta.db_table, PersonalAccount._meta.pk.column
_BALANCE_UPDATE_SQL = f'UPDATE "{_ACCOUNT_TABLE}" SET "{_BALANCE_FIELD.column}" = %s WHERE "{_ACCOUNT_PK}" = %s'  # noqa: S608


def _balance_update(account: PersonalAccount) -> tuple[str, list]:
    """`PersonalAccount.objects.filter(pk=account.pk).update(balance=account.balance)` as a fixed statement."""
    connection = connections[DEFAULT_DB_ALIAS]
    return _BALANCE_UPDATE_SQL, [_BALANCE_FIELD.get_db_prep_save(account.balance, connection), account.pk]


def _append_entry(*, account: PersonalAccount, kind: str, amount: Decimal, occurred_at=None, **links) -> LedgerEntry:
    """Writes one entry on an account the caller has locked. The only place a balance changes."""
    new_balance = account.balance + amount
    if new_balance < ZERO:
        raise BusinessRuleError([Reason.of("BALANCE_WOULD_BE_NEGATIVE")])
    entry = LedgerEntry.objects.create(
        account=account,
        kind=kind,
        amount=amount,
        balance_after=new_balance,
        occurred_at=occurred_at or timezone.now(),
        **links,
    )
    PersonalAccount.objects.filter(pk=account.pk).update(balance=new_balance)
    account.balance = new_balance
    return entry


@transaction.atomic
def account_credit(
    *,
    account: PersonalAccount,
    amount,
    kind: str = LedgerEntryKind.ALLOCATION,
    occurred_at=None,
    reference: str | None = None,
    note: str = "",
    acting_user=None,
    settlement=None,
    member=None,
    institution=None,
    reverses: LedgerEntry | None = None,
) -> LedgerEntry:
    """Credit (or, for an adjustment, a signed amount) onto an account, under a row lock."""
    amount = money(amount)
    if kind in CREDIT_KINDS and amount <= ZERO:
        raise ValueError("credits must be positive")
    if kind in DEBIT_KINDS:
        raise ValueError("use account_debit for payments")
    locked = accounts_lock([account.pk])[account.pk]
    entry = _append_entry(
        account=locked,
        kind=kind,
        amount=amount,
        occurred_at=occurred_at,
        reference=reference,
        note=note,
        created_by=acting_user,
        settlement=settlement,
        member=member,
        institution=institution,
        reverses=reverses,
    )
    account.balance = locked.balance
    return entry


@transaction.atomic
def account_debit(
    *,
    account: PersonalAccount,
    amount,
    kind: str,
    settlement=None,
    member=None,
    institution=None,
    occurred_at=None,
    note: str = "",
    acting_user=None,
    locked: bool = False,
) -> LedgerEntry:
    """Debit a payment. `locked=True` when the caller already holds the account's row lock."""
    amount = money(amount)
    if amount <= ZERO:
        raise ValueError("debit amount must be positive")
    if kind not in DEBIT_KINDS:
        raise ValueError("debits are own or mutual-aid payments")
    target = account if locked else accounts_lock([account.pk])[account.pk]
    entry = _append_entry(
        account=target,
        kind=kind,
        amount=-amount,
        occurred_at=occurred_at,
        settlement=settlement,
        member=member,
        institution=institution,
        note=note,
        created_by=acting_user,
    )
    account.balance = target.balance
    return entry


def accounts_debit_locked(debits, *, settlement, lines=(), occurred_at=None, **links) -> list[LedgerEntry]:
    """The payments of one settlement, on accounts the caller has locked (`accounts_lock`), inside the caller's
    transaction. Same checks and effects as `account_debit` per payment (two-place positive amount, a debit kind,
    never below zero, balance_after, cached balance updated), without a savepoint per payment or a re-lock of a row
    the caller already holds. `debits` is a list of (account, kind, amount, extra links such as member).

    `settlement` (unsaved) and its unsaved `lines` are written with the entries and the new balances: on PostgreSQL in
    one statement (`accounts.db.insert_together`), because all of it happens while the accounts' rows are locked
    (performance of the settlement engine)."""
    assert transaction.get_connection().in_atomic_block, "accounts_debit_locked needs the caller's transaction"
    occurred_at = occurred_at or timezone.now()
    entries, touched = [], {}
    for account, kind, amount, extra in debits:
        amount = money(amount)
        if amount <= ZERO:
            raise ValueError("debit amount must be positive")
        if kind not in DEBIT_KINDS:
            raise ValueError("debits are own or mutual-aid payments")
        new_balance = account.balance - amount
        if new_balance < ZERO:
            raise BusinessRuleError([Reason.of("BALANCE_WOULD_BE_NEGATIVE")])
        entries.append(
            LedgerEntry(
                account=account,
                kind=kind,
                amount=-amount,
                balance_after=new_balance,
                occurred_at=occurred_at,
                settlement=settlement,
                **links,
                **extra,
            )
        )
        account.balance = new_balance
        touched[account.pk] = account
    insert_together(settlement, [*lines, *entries], [_balance_update(account) for account in touched.values()])
    return entries


@transaction.atomic
def ledger_entry_reverse(*, entry: LedgerEntry, note: str = "", acting_user=None, occurred_at=None) -> LedgerEntry:
    """Correct a mistake with a new entry of the opposite sign (never by editing the old one)."""
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise BusinessRuleError([Reason.of("INVALID_TRANSITION", "该流水已冲正")], code="ALREADY_REVERSED")
    kind = LedgerEntryKind.REFUND if entry.kind in DEBIT_KINDS else LedgerEntryKind.ADJUSTMENT
    locked = accounts_lock([entry.account_id])[entry.account_id]
    return _append_entry(
        account=locked,
        kind=kind,
        amount=-entry.amount,
        occurred_at=occurred_at,
        reverses=entry,
        settlement=entry.settlement,
        member=entry.member,
        institution=entry.institution,
        note=note,
        created_by=acting_user,
    )


# --- People ----------------------------------------------------------------------------------------


def person_no_generate(region_code: str) -> str:
    """人员编号: region code + 14 random digits; unique by construction of the random part."""
    return f"{region_code}{uuid.uuid4().int % 10**14:014d}"


@dataclass(frozen=True)
class PersonChanges:
    """What a person write changed, for rule R13 (bindings.services.authorizations_end_for_changes)."""

    suspended_or_terminated: frozenset[int] = frozenset()
    moved_region: frozenset[int] = frozenset()
    left_employee_insurance: frozenset[int] = frozenset()

    def __bool__(self):
        return bool(self.suspended_or_terminated or self.moved_region or self.left_employee_insurance)


ENDING_STATUSES = {InsuranceStatus.SUSPENDED, InsuranceStatus.TERMINATED, InsuranceStatus.UNINSURED}


def person_changes_between(old: dict, new: dict, person_id: int) -> PersonChanges:
    """Compare old and new (insurance_status, region_id, insurance_type) of one person."""
    ended = new["insurance_status"] in ENDING_STATUSES and old["insurance_status"] != new["insurance_status"]
    moved = old["region_id"] != new["region_id"]
    left = old["insurance_type"] == InsuranceType.EMPLOYEE and new["insurance_type"] != InsuranceType.EMPLOYEE
    return PersonChanges(
        suspended_or_terminated=frozenset({person_id} if ended else ()),
        moved_region=frozenset({person_id} if moved else ()),
        left_employee_insurance=frozenset({person_id} if left else ()),
    )


def person_changes_apply(*, changes: PersonChanges, source: str, acting_user=None, api_client=None) -> int:
    """R13: end the authorizations a status or region change ends. Returns how many were ended."""
    if not changes:
        return 0
    from bindings.services import authorizations_end_for_person_changes  # bindings extends accounts (R13)

    return authorizations_end_for_person_changes(
        changes=changes, source=source, acting_user=acting_user, api_client=api_client
    )


@transaction.atomic
def person_create(
    *,
    id_number: str,
    name: str,
    insurance_type: str,
    region: Region,
    insurance_status: str = InsuranceStatus.NORMAL,
    category: str = "",
    phone: str = "",
    person_no: str | None = None,
    acting_user=None,
) -> Person:
    id_number = normalize_id_number(id_number)
    facts = parse_id_number(id_number)
    person = Person.objects.create(
        person_no=person_no or person_no_generate(region.code),
        id_number=id_number,
        name=name.strip(),
        sex=facts.sex,
        birth_date=facts.birth_date,
        insurance_type=insurance_type,
        insurance_status=insurance_status,
        region=region,
        category=category,
        phone=phone,
    )
    if person.is_employee:
        PersonalAccount.objects.create(person=person)
    return person


PERSON_EDITABLE_FIELDS = {"name", "insurance_type", "insurance_status", "region", "category", "phone"}


@transaction.atomic
def person_update(*, person: Person, source: str = "admin", acting_user=None, api_client=None, **fields) -> Person:
    """Change a person. Status and region changes end authorizations by rule R13 in the same transaction."""
    unknown = set(fields) - PERSON_EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    current = Person.objects.select_for_update().get(pk=person.pk)
    old = {
        "insurance_status": current.insurance_status,
        "region_id": current.region_id,
        "insurance_type": current.insurance_type,
    }
    for name, value in fields.items():
        setattr(person, name, value)
    person.full_clean(exclude=["id_number", "person_no"])
    person.save()
    if person.is_employee and not PersonalAccount.objects.filter(person=person).exists():
        PersonalAccount.objects.create(person=person)
    new = {
        "insurance_status": person.insurance_status,
        "region_id": person.region_id,
        "insurance_type": person.insurance_type,
    }
    person_changes_apply(
        changes=person_changes_between(old, new, person.pk),
        source=source,
        acting_user=acting_user,
        api_client=api_client,
    )
    return person


def provinces_ensure(codes) -> list[Region]:
    """Add the province rows (GB/T 2260, `accounts.divisions`) that `codes` name and the table lacks; the rows
    added. Other codes are left alone: a pooling region's name is not national data, so it must be imported."""
    wanted = {code for code in codes if code in PROVINCES}
    if not wanted:
        return []
    missing = wanted - set(Region.objects.filter(code__in=wanted).values_list("code", flat=True))
    regions = [Region(code=code, name=PROVINCES[code]) for code in sorted(missing)]
    Region.objects.bulk_create(regions, ignore_conflicts=True)
    return regions
