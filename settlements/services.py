"""The settlement engine (domain.md S1–S8, api.md "POST settlements").

`settlement_create` decides, for one bill, how much of the personal burden the patient's own personal
account pays, how much the grantors' accounts pay through mutual aid and how much is left in cash, and
explains every part not paid from an account. Money moves only through the ledger services, with every
account involved locked in primary-key order inside one transaction. Each `(institution, external_id)`
settles once: a replay with the identical body returns the first response, another body is a conflict.

Decision (S5): a manual reimbursement claim (手工零星报销) cannot use mutual aid, but the patient's own
personal account may still pay: the rule (seed 000) restricts only the sharing of a relative's account,
and the patient's own account is the patient's own money.

Decision (S6): a patient treated outside the insured pooling region may still pay from his or her own
account; mutual aid needs a cross-region filing for the institution's region valid on the date of
treatment, and where the grantor's policy is province-wide (or narrower), the institution must be in the
grantor's province (seed 003: cross-province use is not yet open).
"""

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.db import insert_together
from accounts.id_numbers import normalize_id_number
from accounts.models import (
    DEBIT_KINDS,
    ZERO,
    LedgerEntryKind,
    Person,
)
from accounts.reasons import BusinessRuleError, Reason
from accounts.services import accounts_debit_locked, accounts_lock, ledger_entry_reverse
from bindings.rules import (
    dedupe,
    local_date,
    policy_memo,
    usage_reasons,
)
from bindings.selectors import no_payer_reasons
from settlements.catalogue import catalogue_name
from settlements.models import (
    ELIGIBLE_CATEGORIES,
    CatalogueItem,
    Institution,
    InstitutionKind,
    ItemKind,
    Settlement,
    SettlementChannel,
    SettlementItem,
    SettlementStatus,
)
from settlements.rules import (
    check_institution_designated,
    check_s1_credential,
    check_s6_cross_region,
    check_s6_policy_scope,
)
from settlements.selectors import patient_for_settlement


class IdempotencyConflict(BusinessRuleError):
    """The same (institution, external_id) with another body: 409."""

    def __init__(self):
        super().__init__([Reason.of("IDEMPOTENCY_CONFLICT")], code="IDEMPOTENCY_CONFLICT")


class AlreadyReversed(BusinessRuleError):
    """A second reversal: 409."""

    def __init__(self):
        super().__init__([Reason.of("ALREADY_REVERSED")], code="ALREADY_REVERSED")


def _amount_text(value) -> str:
    return f"{Decimal(value):.2f}"


def request_fingerprint(payload: dict) -> str:
    """Canonical SHA-256 of a validated settlement body: the same bill written differently ("12.3" and
    "12.30", keys in another order, ID number with a lower-case x) has the same fingerprint."""
    occurred_at = payload.get("occurred_at")
    canonical = {
        "external_id": payload["external_id"],
        "patient_id_number": normalize_id_number(payload["patient_id_number"]),
        "credential": {
            "type": payload["credential"]["type"],
            "number": normalize_id_number(payload["credential"]["number"]),
        },
        "category": payload["category"],
        "channel": payload["channel"],
        "total_amount": _amount_text(payload["total_amount"]),
        "fund_paid": _amount_text(payload["fund_paid"]),
        "items": [
            {
                "name": item["name"],
                "kind": item["kind"],
                "catalogue_code": item.get("catalogue_code") or "",
                "amount": _amount_text(item["amount"]),
            }
            for item in payload.get("items") or []
        ],
        "occurred_at": occurred_at.astimezone(datetime.UTC).isoformat() if occurred_at else None,
    }
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- The plan ---------------------------------------------------------------------------------------------


@dataclass
class GrantorPayment:
    authorization: object
    account_id: int
    amount: Decimal = ZERO


@dataclass
class Plan:
    personal_burden: Decimal
    shareable: Decimal
    own_account_paid: Decimal = ZERO
    mutual_aid_paid: Decimal = ZERO
    grantor_payments: list[GrantorPayment] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)

    @property
    def cash_paid(self) -> Decimal:
        return self.personal_burden - self.own_account_paid - self.mutual_aid_paid


def _catalogue_matches(institution: Institution, items: list[dict]) -> tuple[set[str], set[str]]:
    """The active catalogue codes and names the bill's device/consumable lines name, in one query (S4.2)."""
    if institution.kind != InstitutionKind.PHARMACY:
        return set(), set()
    wanted = [item for item in items if item["kind"] in (ItemKind.DEVICE, ItemKind.CONSUMABLE)]
    codes = {(item.get("catalogue_code") or "").strip() for item in wanted if item.get("catalogue_code")}
    names = {item["name"].strip() for item in wanted}
    names |= {alias for item in wanted if (alias := catalogue_name(item["name"]))}
    if not codes and not names:
        return set(), set()
    rows = CatalogueItem.objects.filter(active=True).filter(Q(code__in=codes) | Q(name__in=names))
    found = list(rows.values_list("code", "name"))
    return {code for code, _ in found}, {name for _, name in found}


def _lines(payload: dict, institution: Institution) -> list[dict]:
    """The bill's lines with their S4 eligibility, the catalogue read once per bill. S4.2: at a pharmacy, drugs yes;
    devices and consumables only from the active catalogue (matched by code, else by exact name: an institution's own
    or national code we do not hold still finds the listed name, also as domain.md or seed 000 write it:
    `settlements.catalogue`); other lines never. At a medical institution every line is part of the personal burden
    (S4.1)."""
    items = payload.get("items") or []
    codes, names = _catalogue_matches(institution, items)

    def eligible(item) -> bool:
        if institution.kind != InstitutionKind.PHARMACY or item["kind"] == ItemKind.DRUG:
            return True
        if item["kind"] in (ItemKind.DEVICE, ItemKind.CONSUMABLE):
            code = (item.get("catalogue_code") or "").strip()
            name = item["name"].strip()
            return (bool(code) and code in codes) or name in names or catalogue_name(name) in names
        return False

    return [
        {
            "name": item["name"],
            "kind": item["kind"],
            "catalogue_code": item.get("catalogue_code") or "",
            "amount": item["amount"],
            "eligible": eligible(item),
        }
        for item in items
    ]


def _patient_and_existing(
    *, institution: Institution, payload: dict, fingerprint: str, now
) -> tuple[Person | None, Settlement | None]:
    """The patient (with the account and the live authorizations that may pay for it today) and an earlier settlement
    under the same key, in one query in the usual case (performance: the idempotency look-up and the payers ride
    along, and the SQL is hand-written: `selectors.patient_for_settlement`). Raises IdempotencyConflict."""
    patient = patient_for_settlement(
        id_number=normalize_id_number(payload["patient_id_number"]),
        institution_id=institution.pk,
        external_id=payload["external_id"],
        payers_on=local_date(now),
    )
    if patient is None:
        return None, _existing(institution, payload["external_id"], fingerprint)
    if patient.existing_settlement_id is None:
        return patient, None
    return patient, _existing(institution, payload["external_id"], fingerprint)


def _refusals(*, institution: Institution, payload: dict, patient: Person | None) -> list[Reason]:
    """The three reasons that refuse the whole settlement (api.md): every one that applies."""
    reasons = []
    if patient is None:
        reasons.append(Reason.of("PERSON_NOT_FOUND"))
    reasons += check_s1_credential(payload["patient_id_number"], payload["credential"]["number"])
    reasons += check_institution_designated(institution)
    return reasons


def _existing(institution: Institution, external_id: str, fingerprint: str) -> Settlement | None:
    found = Settlement.objects.filter(institution=institution, external_id=external_id).first()
    if found is not None and found.request_hash != fingerprint:
        raise IdempotencyConflict()
    return found


def _payers(patient: Person, now) -> list[tuple[object, list[Reason]]]:
    """`bindings.rules.member_payers` with only the joins the engine reads (grantor and its account; the member is the
    patient already in hand), read with the patient (`selectors.patient_for_settlement`, performance): the same
    authorizations, in the same S2 order, with the same reasons. Inside `policy_memo()`, where that read handed over
    the grantors' policies in force today."""
    return [(a, usage_reasons(a, now)) for a in patient.live_authorizations]


def settlement_create(*, institution: Institution, api_client, payload: dict, response_builder=None):
    """Settle one bill. Returns `(settlement, created)`; `created` is False for an identical replay.

    `payload` is the validated body (amounts as Decimals, `occurred_at` aware or None). Raises
    BusinessRuleError (422) for CREDENTIAL_MISMATCH / PERSON_NOT_FOUND / INSTITUTION_NOT_DESIGNATED and
    IdempotencyConflict (409). `response_builder(settlement)` makes the body stored as the first response (built
    before the INSERT, so without the id: `Settlement.first_response` adds it).

    Round trips of a usual bill (one grantor pays): the token; the patient with its account, the idempotency key, the
    live authorizations with grantor accounts and policies in force; BEGIN; the account locks; on PostgreSQL one
    statement for the settlement (with its stored response), its lines, the ledger entries and the balances
    (`accounts.db.insert_together`); COMMIT (tests/settlements/test_queries.py pins the count)."""
    fingerprint = request_fingerprint(payload)
    now = timezone.now()
    try:
        with policy_memo():
            patient, existing = _patient_and_existing(
                institution=institution, payload=payload, fingerprint=fingerprint, now=now
            )
            if existing is not None:
                return existing, False
            refusals = _refusals(institution=institution, payload=payload, patient=patient)
            if refusals:
                raise BusinessRuleError(refusals)
            return _settle(
                institution=institution,
                payload=payload,
                patient=patient,
                fingerprint=fingerprint,
                response_builder=response_builder,
                now=now,
            )
    except IntegrityError:
        # The same key committed by a simultaneous request: its transaction won, ours rolled back whole (the
        # settlement row is written before any ledger entry). One effect, the stored answer.
        found = _existing(institution, payload["external_id"], fingerprint)
        if found is None:
            raise
        return found, False


def _settle(*, institution: Institution, payload: dict, patient: Person, fingerprint: str, response_builder, now):
    occurred_at = payload.get("occurred_at") or now
    on = timezone.localdate(occurred_at)
    total, fund = payload["total_amount"], payload["fund_paid"]
    burden = total - fund
    lines = _lines(payload, institution)

    # S4: what of the burden an account may pay at all.
    reasons: list[Reason] = []
    category_ok = payload["category"] in ELIGIBLE_CATEGORIES
    if not category_ok:
        shareable = ZERO
    else:
        ineligible = sum((line["amount"] for line in lines if not line["eligible"]), ZERO)
        shareable = max(burden - ineligible, ZERO)
    if burden > shareable or (not category_ok and burden > ZERO):
        reasons.append(Reason.of("CATEGORY_NOT_ELIGIBLE"))

    with transaction.atomic():
        # Who may pay, read with the patient before the transaction (no lock is needed to read them).
        payers = _payers(patient, now) if shareable > ZERO else []
        try:
            own_account = patient.account  # read with the patient; its balance is re-read under the lock below
        except Person.account.RelatedObjectDoesNotExist:
            own_account = None
        candidate_ids = [own_account.pk] if own_account is not None else []
        usable = [a for a, why in payers if not why]
        candidate_ids += [a.grantor.account.pk for a in usable]
        locked = accounts_lock(candidate_ids)

        plan = Plan(personal_burden=burden, shareable=shareable, reasons=reasons)
        remaining = shareable
        # S2.1: the member's own personal account first.
        if own_account is not None and remaining > ZERO:
            own = min(locked[own_account.pk].balance, remaining)
            plan.own_account_paid = own
            remaining -= own

        # S2.2: then the grantors' accounts through mutual aid, in the order the authorizations were made.
        aid_reasons: list[Reason] = []
        if remaining > ZERO:
            if payload["channel"] == SettlementChannel.MANUAL_REIMBURSEMENT:
                aid_reasons.append(Reason.of("MANUAL_REIMBURSEMENT_NOT_SUPPORTED"))  # S5
            aid_reasons += check_s6_cross_region(patient=patient, institution=institution, on=on)
            if not payers:
                aid_reasons += no_payer_reasons(patient, now)  # as eligibility answers it
            blocked = bool(aid_reasons)  # S5 / S6 refuse mutual aid whatever the authorizations say
            paid_by_grantors = False
            for authorization, why in payers:
                # The policy in force at the moment of the action (domain.md), as usage_reasons judged the rest; the
                # filing (S6 above) is judged on the date of treatment, which is what it covers.
                why = list(why) + check_s6_policy_scope(
                    grantor=authorization.grantor, institution=institution, on=timezone.localdate(now)
                )
                if why:
                    aid_reasons += why
                    continue
                if blocked or remaining <= ZERO:
                    continue
                account = locked[authorization.grantor.account.pk]
                if account.balance <= ZERO:
                    aid_reasons.append(Reason.of("GRANTOR_BALANCE_ZERO"))  # S7, balance seen under the lock
                    continue
                amount = min(account.balance, remaining)
                plan.grantor_payments.append(GrantorPayment(authorization, account.pk, amount))
                plan.mutual_aid_paid += amount
                remaining -= amount
                paid_by_grantors = True
            if remaining > ZERO and paid_by_grantors:
                aid_reasons.append(Reason.of("INSUFFICIENT_BALANCE"))  # S2: partly paid
            if remaining > ZERO:
                plan.reasons += aid_reasons
        plan.reasons = dedupe(plan.reasons)

        first = plan.grantor_payments[0] if plan.grantor_payments else None
        settlement = Settlement(
            institution=institution,
            external_id=payload["external_id"],
            request_hash=fingerprint,
            patient=patient,
            credential_type=payload["credential"]["type"],
            category=payload["category"],
            channel=payload["channel"],
            total_amount=total,
            fund_paid=fund,
            personal_burden=burden,
            own_account_paid=plan.own_account_paid,
            mutual_aid_paid=plan.mutual_aid_paid,
            cash_paid=plan.cash_paid,
            grantor=first.authorization.grantor if first else None,
            authorization=first.authorization if first else None,
            reasons=[r.as_dict() for r in plan.reasons],
            occurred_at=occurred_at,
        )
        items = [SettlementItem(settlement=settlement, **line) for line in lines]
        # The response lists these lines: no query to read back what is written below.
        settlement._prefetched_objects_cache = {"items": items}
        debits = []
        if plan.own_account_paid > ZERO:
            debits.append((locked[own_account.pk], LedgerEntryKind.OWN_PAYMENT, plan.own_account_paid, {}))
        for payment in plan.grantor_payments:
            debits.append(
                (locked[payment.account_id], LedgerEntryKind.MUTUAL_AID_PAYMENT, payment.amount, {"member": patient})
            )

        # The first response is stored with the row, in the same INSERT (no UPDATE afterwards, one round trip less
        # under the lock). The people in it show their balances after this settlement: read under the lock, less
        # what is debited below. Its own id is not known before the INSERT: Settlement.first_response adds it.
        after = {pk: account.balance for pk, account in locked.items()}
        for account, _, amount, _ in debits:
            after[account.pk] -= amount
        if own_account is not None and own_account.pk in after:
            own_account.balance = after[own_account.pk]
        for authorization in usable:
            grantor_account = authorization.grantor.account
            grantor_account.balance = after[grantor_account.pk]
        if response_builder is not None:
            settlement.response = response_builder(settlement)
            settlement.response.pop("id", None)

        # The settlement, its lines, the ledger entries and the balances are written together (one statement on
        # PostgreSQL). A duplicate key raises IntegrityError and writes none of it; settlement_create answers it.
        if debits:
            accounts_debit_locked(
                debits, settlement=settlement, lines=items, institution=institution, occurred_at=occurred_at
            )
        else:
            insert_together(settlement, items)
    return settlement, True


@transaction.atomic
def settlement_reverse(*, settlement: Settlement, api_client=None) -> Settlement:
    """Full refund: every account paid is credited back by a new refund entry linked to the payment it reverses;
    the settlement is marked reversed. A second reversal raises AlreadyReversed (409)."""
    current = Settlement.objects.select_for_update().get(pk=settlement.pk)
    if current.status == SettlementStatus.REVERSED:
        raise AlreadyReversed()
    payments = list(
        current.ledger_entries.filter(kind__in=DEBIT_KINDS, reversed_by__isnull=True)
        .select_related("settlement", "member", "institution")
        .order_by("account_id", "id")
    )
    accounts_lock([entry.account_id for entry in payments])
    now = timezone.now()
    for entry in payments:
        ledger_entry_reverse(entry=entry, note=f"冲正结算 {current.external_id}", occurred_at=now)
    current.status = SettlementStatus.REVERSED
    current.reversed_at = now
    current.save(update_fields=["status", "reversed_at"])
    return current
