"""Settlement bodies and responses (api.md "Settlement body" / "Response")."""

import threading
from decimal import Decimal

from rest_framework import serializers

from accounts.api.fields import DateTimeField, MoneyField, StringField
from accounts.api.serializers import PersonSummarySerializer, ReasonSerializer, person_summary
from settlements.models import CredentialType, ItemKind, Settlement, SettlementCategory, SettlementChannel

_datetime = serializers.DateTimeField()


def money_text(value) -> str:
    return f"{Decimal(value):.2f}"


class CredentialSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=CredentialType.values)
    number = StringField(max_length=18, min_length=18)


class ItemSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=ItemKind.values)
    catalogue_code = serializers.CharField(max_length=30, required=False, allow_blank=True, allow_null=True, default="")
    amount = MoneyField()


class SettlementRequestSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=64)
    patient_id_number = StringField(max_length=18, min_length=18)
    credential = CredentialSerializer()
    category = serializers.ChoiceField(choices=SettlementCategory.values)
    channel = serializers.ChoiceField(choices=SettlementChannel.values)
    total_amount = MoneyField()
    fund_paid = MoneyField()
    # The list may be null (left out); its lines may not. `ItemSerializer(many=True, allow_null=True)` would hand
    # allow_null to every line too (DRF's many_init), letting `[null]` through to validate(), a 500.
    items = serializers.ListSerializer(child=ItemSerializer(), required=False, allow_null=True)
    occurred_at = DateTimeField(required=False, allow_null=True)

    def validate(self, attrs):
        if attrs["fund_paid"] > attrs["total_amount"]:
            raise serializers.ValidationError({"fund_paid": "统筹基金支付不得大于总金额（S3）。"}, code="invalid")
        items = attrs.get("items")
        if items:
            total = sum((item["amount"] for item in items), Decimal("0.00"))
            if total != attrs["total_amount"]:
                raise serializers.ValidationError(
                    {"items": f"明细合计 {total:.2f} 与总金额 {attrs['total_amount']:.2f} 不符。"}, code="invalid"
                )
        return attrs


class _ThreadSerializers(threading.local):
    settlement_request: SettlementRequestSerializer | None = None


_per_thread = _ThreadSerializers()


def validated_settlement_request(data) -> dict:
    """`data` validated by SettlementRequestSerializer: the validated dict, or DRF's ValidationError as from
    `is_valid(raise_exception=True)`.

    Performance of the settlement API (docs/benchmarks.md, "Sync workers"): a new serializer deep-copies its declared
    fields, the nested ones too, on every request: 1.4 M of a settlement's 7.4 M Python instructions. Each thread
    keeps one serializer instead and validates every body with the same fields: DRF keeps a validation's state on the
    serializer (`initial_data`, `_validated_data`, `_errors`), which is set afresh here for each body, and on nothing
    else; the fields themselves hold only their configuration (tests/settlements/test_request_validation.py)."""
    serializer = _per_thread.settlement_request
    if serializer is None:
        serializer = _per_thread.settlement_request = SettlementRequestSerializer(data=data)
    else:
        for attribute in ("_validated_data", "_errors", "_data"):
            serializer.__dict__.pop(attribute, None)
        serializer.initial_data = data
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class InstitutionRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ItemResponseSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    catalogue_code = serializers.CharField()
    amount = serializers.CharField()
    eligible = serializers.BooleanField()


class SettlementResponseSerializer(serializers.Serializer):
    """Documents the response for the schema; `settlement_body` builds it."""

    id = serializers.IntegerField()
    external_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["settled", "reversed"])
    patient = PersonSummarySerializer()
    total_amount = serializers.CharField()
    fund_paid = serializers.CharField()
    personal_burden = serializers.CharField()
    own_account_paid = serializers.CharField()
    mutual_aid_paid = serializers.CharField()
    cash_paid = serializers.CharField()
    grantor = PersonSummarySerializer(allow_null=True)
    reasons = ReasonSerializer(many=True)
    category = serializers.CharField()
    channel = serializers.CharField()
    institution = InstitutionRefSerializer()
    occurred_at = serializers.DateTimeField()
    reversed_at = serializers.DateTimeField(allow_null=True)
    items = ItemResponseSerializer(many=True)


def in_declared_order(data, serializer):
    """`data` with its keys in the order `serializer` declares them, nested objects and lists too; keys it does not
    declare follow in their own order. A settlement's first response is stored as PostgreSQL jsonb, which keeps keys
    in an order of its own: a replay puts them back, so that it is byte for byte the first response."""
    if isinstance(serializer, serializers.ListSerializer):
        return [in_declared_order(item, serializer.child) for item in data] if isinstance(data, list) else data
    if isinstance(serializer, serializers.Serializer) and isinstance(data, dict):
        fields = serializer.fields
        ordered = {name: in_declared_order(data[name], fields[name]) for name in fields if name in data}
        ordered.update((key, value) for key, value in data.items() if key not in ordered)
        return ordered
    return data


def settlement_body(settlement: Settlement, client) -> dict:
    """The response of api.md, names and ID numbers masked unless the client's role sees them in full."""
    return {
        "id": settlement.pk,
        "external_id": settlement.external_id,
        "status": settlement.status,
        "patient": person_summary(settlement.patient, client),
        "total_amount": money_text(settlement.total_amount),
        "fund_paid": money_text(settlement.fund_paid),
        "personal_burden": money_text(settlement.personal_burden),
        "own_account_paid": money_text(settlement.own_account_paid),
        "mutual_aid_paid": money_text(settlement.mutual_aid_paid),
        "cash_paid": money_text(settlement.cash_paid),
        "grantor": person_summary(settlement.grantor, client),
        "reasons": list(settlement.reasons),
        "category": settlement.category,
        "channel": settlement.channel,
        "institution": {"code": settlement.institution.code, "name": settlement.institution.name},
        "occurred_at": _datetime.to_representation(settlement.occurred_at),
        "reversed_at": _datetime.to_representation(settlement.reversed_at) if settlement.reversed_at else None,
        "items": [
            {
                "name": item.name,
                "kind": item.kind,
                "catalogue_code": item.catalogue_code,
                "amount": money_text(item.amount),
                "eligible": item.eligible,
            }
            for item in _items_of(settlement)
        ],
    }


def _items_of(settlement: Settlement):
    # The first response is built before the INSERT that stores it (settlements.services._settle): an unsaved
    # settlement carries its lines in the prefetch cache, where a saved one is read (or prefetched) as usual.
    if settlement.pk is None:
        return settlement._prefetched_objects_cache["items"]
    return settlement.items.all()


class ExpenditureLineSerializer(serializers.Serializer):
    """One line of 支出明细: a mutual-aid payment (positive) or its refund (negative)."""

    settlement_id = serializers.IntegerField()
    entry_id = serializers.IntegerField()
    line_type = serializers.ChoiceField(choices=["payment", "refund"])
    occurred_at = serializers.DateTimeField()
    member = PersonSummarySerializer(allow_null=True)
    kinship = serializers.CharField(allow_null=True)
    institution = InstitutionRefSerializer(allow_null=True)
    category = serializers.CharField(allow_null=True)
    amount = serializers.CharField()
    balance_after = serializers.CharField()
    reversed = serializers.BooleanField()


def expenditure_line_body(line, client) -> dict:
    institution = line.institution
    return {
        "settlement_id": line.settlement_id,
        "entry_id": line.pk,
        "line_type": "refund" if line.is_refund else "payment",
        "occurred_at": _datetime.to_representation(line.occurred_at),
        "member": person_summary(line.member, client),
        "kinship": line.kinship,
        "institution": {"code": institution.code, "name": institution.name} if institution else None,
        "category": line.category,
        "amount": money_text(line.spent),
        "balance_after": money_text(line.balance_after),
        "reversed": bool(line.is_reversed),
    }
