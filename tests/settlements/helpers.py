"""Shared helpers for settlement tests: a settlement body and its HTTP post."""

import itertools
from decimal import Decimal

from django.db.models import Sum

from accounts.models import LedgerEntry, PersonalAccount

_ids = itertools.count(1)


def body(patient, *, total="100.00", fund="40.00", category="medical", channel="direct", credential=None, **extra):
    data = {
        "external_id": extra.pop("external_id", f"S{next(_ids):06d}"),
        "patient_id_number": patient.id_number if hasattr(patient, "id_number") else patient,
        "credential": {
            "type": "e_voucher",
            "number": credential or (patient.id_number if hasattr(patient, "id_number") else patient),
        },
        "category": category,
        "channel": channel,
        "total_amount": total,
        "fund_paid": fund,
    }
    data.update(extra)
    return data


def settle(api, patient, **kwargs):
    return api.post("/api/v1/settlements", body(patient, **kwargs), format="json")


def codes(response_or_data) -> list[str]:
    data = response_or_data.json() if hasattr(response_or_data, "json") else response_or_data
    return [r["code"] for r in data["reasons"]]


def balance(person) -> Decimal:
    return PersonalAccount.objects.get(person=person).balance


def ledger_sum(person) -> Decimal:
    return LedgerEntry.objects.filter(account__person=person).aggregate(s=Sum("amount"))["s"] or Decimal("0")


def parts_add_up(data) -> bool:
    return Decimal(data["own_account_paid"]) + Decimal(data["mutual_aid_paid"]) + Decimal(data["cash_paid"]) == Decimal(
        data["personal_burden"]
    )
