"""Reads of settlements and of a grantor's mutual-aid expenditure (支出明细, S8).

`expenditure_list` is the one query behind the API, the admin report, the printable statement and the
exports, so the four always agree.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from accounts.db import ModelColumns, prepared_cursor
from accounts.models import ZERO, LedgerEntry, LedgerEntryKind, Person, PersonalAccount
from bindings.models import LIVE_STATUSES, Authorization, AuthorizationStatus, Policy
from bindings.rules import dedupe, policy_memo_remember
from bindings.selectors import Eligibility, eligibility
from settlements.models import Settlement, SettlementStatus
from settlements.rules import check_institution_designated, check_s6_cross_region, check_s6_policy_scope

MONEY_OUTPUT = DecimalField(max_digits=14, decimal_places=2)
CENT = Decimal("0.01")

# A mutual-aid payment, or the refund of one (a refund of the grantor's own payment is not an expenditure
# for a family member). The refund test is a correlated EXISTS, not a join: with no join in the filter the
# planner can walk the (account, occurred_at, id) index newest first and stop after one page.
EXPENDITURE_FILTER = Q(kind=LedgerEntryKind.MUTUAL_AID_PAYMENT) | Q(
    Q(kind=LedgerEntryKind.REFUND),
    Exists(LedgerEntry.objects.filter(pk=OuterRef("reverses_id"), kind=LedgerEntryKind.MUTUAL_AID_PAYMENT)),
)


# The predicate of the partial index ledger_mutual_aid_idx (account, occurred_at, id): stated literally so that the
# planner sees at once that every expenditure row is in that index (one index range per grantor and date range).
MUTUAL_AID_INDEX_KINDS = [LedgerEntryKind.MUTUAL_AID_PAYMENT, LedgerEntryKind.REFUND]


def _grantor_account_id(grantor: Person) -> int | None:
    """The grantor's account id: from the account already loaded with the person (select_related), else one query."""
    if Person.account.is_cached(grantor):
        account = grantor._state.fields_cache["account"]  # None when select_related found no account
        return account.pk if account is not None else None
    return PersonalAccount.objects.filter(person_id=grantor.pk).values_list("pk", flat=True).first()


def _expenditure_rows(grantor: Person, start, end) -> QuerySet[LedgerEntry]:
    """The bare rows (no annotations), on the grantor's account id so the partial (account, occurred_at, id) index
    ledger_mutual_aid_idx is used for the range, the page and the totals."""
    account_id = _grantor_account_id(grantor)
    qs = LedgerEntry.objects.filter(account_id=account_id, kind__in=MUTUAL_AID_INDEX_KINDS).filter(EXPENDITURE_FILTER)
    if start is not None:
        qs = qs.filter(occurred_at__gte=start)
    if end is not None:
        qs = qs.filter(occurred_at__lt=end)
    return qs


def expenditure_list(*, grantor: Person, start=None, end=None) -> QuerySet[LedgerEntry]:
    """The grantor's mutual-aid payments and their refunds, newest first; `end` is exclusive.

    Each row carries `spent` (positive for a payment, negative for a refund: what left the account),
    `kinship` (from the authorization between grantor and member), `category` (the settlement's),
    `is_refund` and `is_reversed` (a payment that was refunded).
    """
    kinship = (
        Authorization.objects.filter(grantor_id=grantor.pk, member_id=OuterRef("member_id"))
        .order_by("-created_at", "-id")
        .values("kinship")[:1]
    )
    return (
        _expenditure_rows(grantor, start, end)
        .annotate(
            spent=ExpressionWrapper(-F("amount"), output_field=MONEY_OUTPUT),
            kinship=Subquery(kinship),
            category=F("settlement__category"),
            is_refund=ExpressionWrapper(Q(kind=LedgerEntryKind.REFUND), output_field=BooleanField()),
            is_reversed=Exists(LedgerEntry.objects.filter(reverses_id=OuterRef("pk"))),
        )
        .select_related("member", "member__account", "institution")
        .order_by("-occurred_at", "-id")
    )


@dataclass(frozen=True)
class Totals:
    total_amount: Decimal
    count: int
    payments: Decimal
    refunds: Decimal


def expenditure_totals(*, grantor: Person, start=None, end=None) -> Totals:
    """Net of refunds: what left the grantor's account for family members in the range, and how many lines."""
    result = (
        _expenditure_rows(grantor, start, end)
        .order_by()
        .aggregate(
            net=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY_OUTPUT),
            paid=Coalesce(
                Sum("amount", filter=Q(kind=LedgerEntryKind.MUTUAL_AID_PAYMENT)), Value(ZERO), output_field=MONEY_OUTPUT
            ),
            refunded=Coalesce(
                Sum("amount", filter=Q(kind=LedgerEntryKind.REFUND)), Value(ZERO), output_field=MONEY_OUTPUT
            ),
            count=Count("id"),
        )
    )
    return Totals(
        total_amount=-Decimal(result["net"]).quantize(Decimal("0.01")) + ZERO,
        count=result["count"],
        payments=-Decimal(result["paid"]).quantize(Decimal("0.01")) + ZERO,
        refunds=Decimal(result["refunded"]).quantize(Decimal("0.01")),
    )


def eligibility_at_institution(institution, *, member: Person, at=None, **asked) -> Eligibility:
    """Eligibility asked by an institution's system (api.md "POST eligibility"): `bindings.selectors.eligibility`, and
    what a settlement at this institution would also refuse mutual aid for, checked as the engine checks it: the
    institution not designated, treatment outside the member's region without a filing (S6), the grantor's policy not
    open in the institution's province (S6 / R6). So the answer before a bill is the answer the bill gets."""
    at = at or timezone.now()
    result = eligibility(member=member, at=at, **asked)
    today = timezone.localdate(at)
    extra = check_institution_designated(institution)
    extra += check_s6_cross_region(patient=member, institution=institution, on=today)
    if result.grantor is not None:
        extra += check_s6_policy_scope(grantor=result.grantor, institution=institution, on=today)
    if not extra:
        return result
    return Eligibility(False, result.grantor, result.authorization, dedupe(result.reasons + extra))


def grantor_find(query: str) -> Person | None:
    """The admin report's search: an exact ID number or an exact person number."""
    from accounts.id_numbers import normalize_id_number

    query = (query or "").strip()
    if not query:
        return None
    people = Person.objects.select_related("region", "account")
    found = people.filter(person_no=query).first()
    if found is None and len(query) == 18:
        found = people.filter(id_number=normalize_id_number(query)).first()
    return found


# --- Settlements --------------------------------------------------------------------------------------------


def settlement_get(*, pk: int, institution=None) -> Settlement | None:
    """One settlement; an institution only ever finds its own."""
    qs = Settlement.objects.select_related(
        "institution", "patient__region", "patient__account", "grantor__region", "grantor__account"
    ).prefetch_related("items")
    if institution is not None:
        qs = qs.filter(institution=institution)
    return qs.filter(pk=pk).first()


def settlement_list(
    *, institution=None, start=None, end=None, category=None, mutual_aid: bool | None = None
) -> QuerySet[Settlement]:
    qs = Settlement.objects.select_related("institution", "patient", "grantor")
    if institution is not None:
        qs = qs.filter(institution=institution)
    if start is not None:
        qs = qs.filter(occurred_at__gte=start)
    if end is not None:
        qs = qs.filter(occurred_at__lt=end)
    if category:
        qs = qs.filter(category=category)
    if mutual_aid is True:
        qs = qs.filter(mutual_aid_paid__gt=0)
    elif mutual_aid is False:
        qs = qs.filter(mutual_aid_paid=0)
    return qs.order_by("-occurred_at", "-id")


@dataclass
class RegionMonth:
    region_code: str
    region_name: str
    active_relationships: int
    active_authorizations: int
    settlements: int
    mutual_aid_settlements: int
    mutual_aid_amount: Decimal
    refunded_amount: Decimal


def monthly_summary_total(rows: list[RegionMonth]) -> RegionMonth:
    """The regions' rows added up (a grantor belongs to one region, so relationships add up too)."""
    return RegionMonth(
        region_code="",
        region_name="",
        active_relationships=sum(r.active_relationships for r in rows),
        active_authorizations=sum(r.active_authorizations for r in rows),
        settlements=sum(r.settlements for r in rows),
        mutual_aid_settlements=sum(r.mutual_aid_settlements for r in rows),
        mutual_aid_amount=sum((r.mutual_aid_amount for r in rows), ZERO),
        refunded_amount=sum((r.refunded_amount for r in rows), ZERO),
    )


def month_bounds(month: datetime.date):
    tz = timezone.get_default_timezone()
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return (
        datetime.datetime.combine(first, datetime.time.min, tz),
        datetime.datetime.combine(following, datetime.time.min, tz),
    )


def authorizations_in_effect(start, end) -> QuerySet[Authorization]:
    """Authorizations in effect at some moment of [start, end): made effective (active at once, or confirmed by the
    spouse where the policy they were made under asked for it: R11), started before `end`, and neither past their end
    nor ended (revoked, terminated, expired) before `start`. Judged from the dates each one keeps, so a past month's
    figure does not change when people unbind later; declined and still-pending ones never count."""
    S = AuthorizationStatus
    unconfirmed_spouse = Q(kinship="spouse", policy__spouse_confirmation=True, confirmed_at__isnull=True)
    return (
        Authorization.objects.exclude(status__in=[S.DECLINED, S.PENDING_CONFIRMATION])
        .exclude(unconfirmed_spouse)
        .filter(valid_from__lt=end)
        .filter(Q(confirmed_at__isnull=True) | Q(confirmed_at__lt=end))
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=start))
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
    )


def monthly_summary_by_region(*, month: datetime.date) -> list[RegionMonth]:
    """Per grantor pooling region for one calendar month (Asia/Shanghai): relationships in effect during the month
    (grantors with an authorization in effect, `authorizations_in_effect`), settlements in the month, those paid by
    mutual aid and the amounts (refunds apart)."""
    start, end = month_bounds(month)
    from accounts.models import Region

    rows: dict[str, dict] = {}

    def row(code):
        return rows.setdefault(
            code,
            {
                "active_relationships": 0,
                "active_authorizations": 0,
                "settlements": 0,
                "mutual_aid_settlements": 0,
                "mutual_aid_amount": ZERO,
                "refunded_amount": ZERO,
            },
        )

    active = (
        authorizations_in_effect(start, end)
        .values("grantor__region_id")
        .annotate(grantors=Count("grantor_id", distinct=True), authorizations=Count("id"))
    )
    for item in active:
        target = row(item["grantor__region_id"])
        target["active_relationships"] = item["grantors"]
        target["active_authorizations"] = item["authorizations"]
    settled = (
        Settlement.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
        .values("institution__region_id")
        .annotate(n=Count("id"))
    )
    for item in settled:
        row(item["institution__region_id"])["settlements"] = item["n"]
    aid = (
        Settlement.objects.filter(occurred_at__gte=start, occurred_at__lt=end, mutual_aid_paid__gt=0)
        .values("grantor__region_id")
        .annotate(
            n=Count("id"),
            amount=Sum("mutual_aid_paid"),
            refunded=Coalesce(
                Sum("mutual_aid_paid", filter=Q(status=SettlementStatus.REVERSED)),
                Value(ZERO),
                output_field=MONEY_OUTPUT,
            ),
        )
    )
    for item in aid:
        target = row(item["grantor__region_id"])
        target["mutual_aid_settlements"] = item["n"]
        # SQLite returns an aggregate's sum without its scale ("2764.57000000000"): money is shown with two places.
        target["mutual_aid_amount"] = Decimal(item["amount"] or ZERO).quantize(CENT)
        target["refunded_amount"] = Decimal(item["refunded"] or ZERO).quantize(CENT)
    names = dict(Region.objects.filter(code__in=rows).values_list("code", "name"))
    return [
        RegionMonth(region_code=code, region_name=names.get(code, ""), **values)
        for code, values in sorted(rows.items())
    ]


def months_with_settlements(limit: int = 24) -> list[datetime.date]:
    months = (
        Settlement.objects.annotate(month=TruncMonth("occurred_at"))
        .values_list("month", flat=True)
        .distinct()
        .order_by("-month")[:limit]
    )
    return [m.date() if isinstance(m, datetime.datetime) else m for m in months]


# --- The settlement engine's hot reads (hand-written SQL) ----------------------------------------------------------
#
# Performance (docs/benchmarks.md, "After CPU profiling"): building and compiling a QuerySet costs 0.5–1.3 ms
# of Python per query on the benchmark machine, sending a fixed SQL string ~0.1 ms, and these two reads were a third
# of a settlement's CPU. Their SQL is therefore written once, below, with the column lists taken from the models so
# that a new field cannot be forgotten; rows become ordinary model instances through accounts.db.ModelColumns
# (`Model.from_db`, converters applied as the ORM does, so SQLite and PostgreSQL return the same values).
# tests/settlements/test_hot_selectors.py checks them against the ORM queries they replace.


_PERSON, _PATIENT_ACCOUNT = ModelColumns(Person, "p"), ModelColumns(PersonalAccount, "a")
_AUTHORIZATION, _GRANTOR, _GRANTOR_ACCOUNT, _POLICY = (
    ModelColumns(Authorization, "au"),
    ModelColumns(Person, "g"),
    ModelColumns(PersonalAccount, "ga"),
    ModelColumns(Policy, "pol"),
)
_LIVE = ", ".join(["%s"] * len(LIVE_STATUSES))
# A live authorization's grantor, the grantor's account and the policy in force for the grantor's region on a date,
# as `bindings.rules.policy_in_force` chooses it: the region's own latest version not after the date, else its
# province's (province code: the first two digits and "0000", `accounts.models.province_code`). Joined in, so the
# engine does not ask for the policy in a query of its own. The region's own versions sort first by
# `region_id DESC`: a code below province level shares the province's two digits and is not all zeros after them,
# so it is the greater string (SQLite 3.40 refuses an outer column in a correlated subquery's ORDER BY, so the order
# cannot say "own region first" directly). Parameter: the date.
_PAYER_SQL = f"{_AUTHORIZATION.sql}, {_GRANTOR.sql}, {_GRANTOR_ACCOUNT.sql}, {_POLICY.sql}"
_PAYER_JOINS = f"""
      LEFT OUTER JOIN "{Person._meta.db_table}" g ON g."id" = au."grantor_id"
      LEFT OUTER JOIN "{PersonalAccount._meta.db_table}" ga ON ga."person_id" = g."id"
      LEFT OUTER JOIN "{Policy._meta.db_table}" pol ON pol."id" = (
           SELECT v."id" FROM "{Policy._meta.db_table}" v
            WHERE v."region_id" IN (g."region_id", SUBSTR(g."region_id", 1, 2) || '0000') AND v."effective_from" <= %s
            ORDER BY v."region_id" DESC, v."effective_from" DESC
            LIMIT 1)"""  # noqa: S608 - identifiers from model meta
_PAYER_WIDTHS = (_AUTHORIZATION.width, _GRANTOR.width, _GRANTOR_ACCOUNT.width)

# The patient (one person: id_number is unique) with its account, the id of a settlement already stored under the
# idempotency key, and one row per live authorization in S2 payment order (one row with NULLs where there is none).
_PATIENT_SQL = f"""
    SELECT {_PERSON.sql}, {_PATIENT_ACCOUNT.sql},
           (SELECT s."id" FROM "{Settlement._meta.db_table}" s
             WHERE s."institution_id" = %s AND s."external_id" = %s LIMIT 1),
           {_PAYER_SQL}
      FROM "{Person._meta.db_table}" p
      LEFT OUTER JOIN "{PersonalAccount._meta.db_table}" a ON a."person_id" = p."id"
      LEFT OUTER JOIN "{Authorization._meta.db_table}" au ON au."member_id" = p."id" AND au."status" IN ({_LIVE})
      {_PAYER_JOINS}
     WHERE p."id_number" = %s
     ORDER BY au."created_at" ASC, au."id" ASC"""  # noqa: S608 - identifiers come from model meta, values are parameters


def patient_for_settlement(
    *, id_number: str, institution_id: int, external_id: str, payers_on: datetime.date
) -> Person | None:
    """The patient with its personal account (`patient.account`, or RelatedObjectDoesNotExist if it has none),
    `existing_settlement_id`: the id of a settlement already stored under (institution, external_id), else None, and
    `live_authorizations`: what `bindings.rules.member_authorizations(patient)` returns (live, S2 payment order), each
    with its grantor and the grantor's account loaded and `member` set to the patient; and for each grantor's region
    the policy in force on `payers_on`, handed to the `bindings.rules.policy_memo` (inside one, `policy_in_force` then
    asks the database nothing for these regions on that date). One query; `id_number` is already normalised."""
    connection = connections[DEFAULT_DB_ALIAS]
    with prepared_cursor() as cursor:
        cursor.execute(
            _PATIENT_SQL,
            [
                institution_id,
                external_id,
                *LIVE_STATUSES,
                connection.ops.adapt_datefield_value(payers_on),
                id_number,
            ],
        )
        rows = cursor.fetchall()
    if not rows:
        return None
    first = rows[0]
    patient = _PERSON.load(first, 0, connection)
    account = _PATIENT_ACCOUNT.load(first, _PERSON.width, connection)
    _cache_account(patient, account)
    patient.existing_settlement_id = first[_PERSON.width + _PATIENT_ACCOUNT.width]
    start = _PERSON.width + _PATIENT_ACCOUNT.width + 1
    patient.live_authorizations = [
        authorization
        for row in rows
        if (authorization := _payer(row, start, patient, payers_on, connection)) is not None
    ]
    return patient


def _cache_account(person: Person, account: PersonalAccount | None) -> None:
    """What select_related("account") leaves behind: both sides of the one-to-one cached (None: no account)."""
    Person.account.related.set_cached_value(person, account)
    if account is not None:
        PersonalAccount.person.field.set_cached_value(account, person)


def _payer(row, start: int, member: Person, on: datetime.date, connection) -> Authorization | None:
    """The authorization at `row[start:]` with its grantor, the grantor's account and `member`; the grantor's policy
    in force on `on` goes to the policy memo. None where the row has no authorization (LEFT JOIN)."""
    authorization = _AUTHORIZATION.load(row, start, connection)
    if authorization is None:
        return None
    widths = _PAYER_WIDTHS
    grantor = _GRANTOR.load(row, start + widths[0], connection)
    _cache_account(grantor, _GRANTOR_ACCOUNT.load(row, start + widths[0] + widths[1], connection))
    policy_memo_remember(grantor.region_id, on, _POLICY.load(row, start + sum(widths), connection))
    authorization.grantor = grantor
    authorization.member = member
    return authorization
