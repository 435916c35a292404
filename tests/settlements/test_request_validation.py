"""The settlement body's validation with one serializer per thread (settlements.api.serializers.
validated_settlement_request): every body gets exactly what a new SettlementRequestSerializer would give it."""

import threading

import pytest
from rest_framework.exceptions import ValidationError

from settlements.api import serializers as settlement_serializers
from settlements.api.serializers import SettlementRequestSerializer, validated_settlement_request

PATIENT = "110101199003070011"


def body(**changes) -> dict:
    data = {
        "external_id": "H-1",
        "patient_id_number": PATIENT,
        "credential": {"type": "e_voucher", "number": PATIENT},
        "category": "medical",
        "channel": "direct",
        "total_amount": "100.00",
        "fund_paid": "60.00",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


BODIES = [
    body(items=[{"name": "药", "kind": "drug", "amount": "100.00"}], occurred_at="2026-03-01T10:00:00+08:00"),
    body(total_amount="12.3", fund_paid="0"),
    body(category="lottery", credential={"type": "passport", "number": PATIENT}),
    body(fund_paid="200.00"),
    body(items=[{"name": "药", "kind": "drug", "amount": "60.001"}]),
    {},
    body(external_id="H-2"),  # after the errors above: a clean result, none of the first body's items or date
]


def fresh(data):
    serializer = SettlementRequestSerializer(data=data)
    if serializer.is_valid():
        return "valid", serializer.validated_data
    return "invalid", serializer.errors


def reused(data):
    try:
        return "valid", validated_settlement_request(data)
    except ValidationError as error:
        return "invalid", error.detail


def test_each_body_validated_as_by_a_new_serializer():
    for data in BODIES:
        assert reused(data) == fresh(data), data
    outcome, last = reused(BODIES[-1])
    assert outcome == "valid" and "items" not in last and "occurred_at" not in last


def test_validated_data_is_not_shared_between_bodies():
    first = validated_settlement_request(body(external_id="H-10"))
    second = validated_settlement_request(body(external_id="H-11"))
    assert (first["external_id"], second["external_id"]) == ("H-10", "H-11")
    assert first["credential"] is not second["credential"]


def test_each_thread_validates_with_its_own_serializer():
    seen, errors = [], []

    def validate(external_id):
        try:
            assert validated_settlement_request(body(external_id=external_id))["external_id"] == external_id
            seen.append(settlement_serializers._per_thread.settlement_request)
        except Exception as error:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=validate, args=(f"T-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({id(serializer) for serializer in seen}) == 4


@pytest.mark.parametrize("data", BODIES[2:6])
def test_bad_bodies_raise_drf_validation_errors(data):
    with pytest.raises(ValidationError):
        validated_settlement_request(data)
