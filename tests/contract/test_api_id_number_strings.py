"""ID numbers travel as JSON strings (the schema: `type: string`). `POST authorizations` and `POST eligibility` refused
a JSON number already; `POST persons/lookup` and `POST settlements` read one as its digits (found by fuzzing)."""

import pytest

from tests.contract.test_api_persons import error_shape


def test_lookup_refuses_an_id_number_sent_as_a_number(world):
    number = int(world.child.id_number)  # ends in a digit: a JSON number can carry it
    body = error_shape(world.staff.post("/api/v1/persons/lookup", {"id_number": number}, format="json"), 400)
    assert [reason["field"] for reason in body["reasons"]] == ["id_number"]
    assert world.staff.post("/api/v1/persons/lookup", {"id_number": str(number)}, format="json").status_code == 200


@pytest.mark.parametrize("field", ["patient_id_number", "credential"])
def test_settlement_refuses_an_id_number_sent_as_a_number(world, field):
    number = int(world.child.id_number)
    extra = {"patient_id_number": number} if field == "patient_id_number" else {
        "credential": {"type": "e_voucher", "number": number}}  # fmt: skip
    body = {
        "external_id": "N1", "patient_id_number": world.child.id_number,
        "credential": {"type": "e_voucher", "number": world.child.id_number},
        "category": "medical", "channel": "direct", "total_amount": "100.00", "fund_paid": "40.00", **extra,
    }  # fmt: skip
    reply = error_shape(world.hospital.post("/api/v1/settlements", body, format="json"), 400, "INVALID_INPUT")
    assert [reason["field"] for reason in reply["reasons"]] == [
        "patient_id_number" if field == "patient_id_number" else "credential.number"
    ]
    assert world.settle(external_id="N1").status_code == 201
