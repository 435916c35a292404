"""api.md "Conventions", "Clients and roles", `POST persons/lookup`, `GET persons/{person_no}`."""

import re

import pytest
from rest_framework.test import APIClient

from tests.contract.conftest import PERSON_HEADER, api_for, create_client, make_id

MASKED_ID = re.compile(r"^\d{6}\*{8}[\dX]{4}$")
SUMMARY_FIELDS = {"person_no", "name", "id_number", "insurance_type", "insurance_status", "region", "has_account",
                  "balance"}  # fmt: skip


def error_shape(response, status, code=None):
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert set(body) >= {"code", "message", "reasons"}, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and re.search(r"[\u4e00-\u9fff]", body["message"]), body
    assert isinstance(body["reasons"], list)
    for reason in body["reasons"]:
        assert {"code", "message"} <= set(reason)
    if code:
        assert body["code"] == code, body
    return body


def test_lookup_summary_fields_masked_for_channel(world):
    r = world.channel.post("/api/v1/persons/lookup", {"id_number": world.grantor.id_number}, format="json")
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= SUMMARY_FIELDS
    assert body["person_no"] == "G0001"
    assert body["id_number"] == world.grantor.id_number[:6] + "********" + world.grantor.id_number[-4:]
    assert body["name"] == "张*"
    assert body["insurance_type"] == "employee"
    assert body["insurance_status"] == "normal"
    assert body["region"] == "320500"
    assert body["has_account"] is True
    assert body["balance"] == "1000.00"


def test_compound_surname_masked_keeps_two_characters(world):
    r = world.channel.get(f"/api/v1/persons/{world.spouse.person_no}")
    assert r.json()["name"] == "欧阳**"


def test_three_character_compound_surname_masks_given_name_only(world, imp):
    """Ambiguity: api.md shows `欧阳**` for a compound surname. For a three-character name with a compound
    surname (欧阳娜) a bureau masks the given name only: `欧阳*`, not `欧**`."""
    idn = make_id("19900101", "071")
    imp.ok("persons", [PERSON_HEADER, [idn, "欧阳娜", "390", "正常参保", "320500", "", "X0001", ""]])
    assert world.channel.get("/api/v1/persons/X0001").json()["name"] == "欧阳*"
    assert world.channel.get(f"/api/v1/persons/{world.mother.person_no}").json()["name"] == "李*"


@pytest.mark.parametrize("role", ["institution", "channel"])
def test_non_staff_roles_see_masked(world, role):
    api = world.hospital if role == "institution" else world.channel
    r = api.post("/api/v1/persons/lookup", {"id_number": world.child.id_number}, format="json")
    assert r.status_code == 200
    body = r.json()
    assert MASKED_ID.match(body["id_number"]) and body["id_number"].startswith("320102")
    assert body["name"] == "张**"


def test_staff_sees_in_full(world):
    body = world.staff.post("/api/v1/persons/lookup", {"id_number": world.child.id_number}, format="json").json()
    assert body["id_number"] == world.child.id_number
    assert body["name"] == "张小明"


def test_resident_has_no_account(world):
    body = world.staff.get(f"/api/v1/persons/{world.child.person_no}").json()
    assert body["insurance_type"] == "resident"
    assert body["has_account"] is False
    assert body["balance"] is None


def test_get_person_is_the_same_summary(world):
    looked_up = world.channel.post("/api/v1/persons/lookup", {"id_number": world.grantor.id_number}, format="json")
    detail = world.channel.get(f"/api/v1/persons/{world.grantor.person_no}")
    assert detail.status_code == 200
    assert detail.json() == looked_up.json()


def test_unknown_person_404(world):
    error_shape(world.staff.get("/api/v1/persons/NOPE"), 404)
    other = make_id("19900101", "991")
    error_shape(world.staff.post("/api/v1/persons/lookup", {"id_number": other}, format="json"), 404)


def test_id_number_is_not_an_address(world):
    """Resources are addressed by person_no; an ID number in the path finds nothing."""
    error_shape(world.staff.get(f"/api/v1/persons/{world.grantor.id_number}"), 404)
    error_shape(world.staff.get(f"/api/v1/persons/{world.grantor.id_number}/authorizations"), 404)


def test_schema_has_no_id_number_path_or_query_parameter(world):
    r = world.staff.get("/api/v1/schema", HTTP_ACCEPT="application/json")
    assert r.status_code == 200
    text = r.content.decode()
    assert "{id_number}" not in text
    import json

    schema = json.loads(text) if text.lstrip().startswith("{") else None
    if schema:
        for path, ops in schema["paths"].items():
            assert "id_number" not in path
            for op in ops.values():
                for param in op.get("parameters", []) if isinstance(op, dict) else []:
                    assert "id_number" not in param["name"], (path, param)


@pytest.mark.parametrize(
    "method,path",
    [
        ("post", "/api/v1/persons/lookup"),
        ("get", "/api/v1/persons/G0001"),
        ("get", "/api/v1/persons/G0001/authorizations"),
        ("get", "/api/v1/persons/G0001/expenditures"),
        ("get", "/api/v1/persons/G0001/ledger"),
        ("post", "/api/v1/authorizations"),
        ("post", "/api/v1/authorizations/1/confirm"),
        ("post", "/api/v1/authorizations/1/revoke"),
        ("post", "/api/v1/eligibility"),
        ("post", "/api/v1/settlements"),
        ("get", "/api/v1/settlements/1"),
        ("post", "/api/v1/settlements/1/reversal"),
    ],
)
def test_anonymous_is_401_everywhere(world, method, path):
    error_shape(getattr(world.anonymous, method)(path, {}, format="json"), 401)


def test_bad_token_is_401(world):
    error_shape(api_for("not-a-token").get("/api/v1/persons/G0001"), 401)


@pytest.mark.parametrize(
    "who,method,path",
    [
        ("hospital", "post", "/api/v1/authorizations"),
        ("hospital", "post", "/api/v1/authorizations/1/confirm"),
        ("hospital", "post", "/api/v1/authorizations/1/revoke"),
        ("hospital", "get", "/api/v1/persons/G0001/authorizations"),
        ("hospital", "get", "/api/v1/persons/G0001/expenditures"),
        ("hospital", "get", "/api/v1/persons/G0001/ledger"),
        ("staff", "post", "/api/v1/authorizations"),
        ("staff", "post", "/api/v1/authorizations/1/revoke"),
        ("staff", "post", "/api/v1/settlements"),
        ("staff", "post", "/api/v1/settlements/1/reversal"),
        ("channel", "post", "/api/v1/settlements"),
        ("channel", "post", "/api/v1/settlements/1/reversal"),
    ],
)
def test_wrong_role_is_403(world, who, method, path):
    api = getattr(world, who)
    error_shape(getattr(api, method)(path, {}, format="json"), 403)


def test_malformed_input_400(world):
    error_shape(world.staff.post("/api/v1/persons/lookup", {}, format="json"), 400)
    error_shape(world.staff.post("/api/v1/persons/lookup", {"id_number": "123"}, format="json"), 400)
    error_shape(
        world.staff.post("/api/v1/persons/lookup", data="{not json", content_type="application/json"), 400
    )


def test_bad_checksum_id_number_is_malformed_input(world):
    """A number that fails the GB 11643 checksum is malformed input (400), not an unknown person."""
    bad = world.grantor.id_number[:17] + ("0" if world.grantor.id_number[17] != "0" else "1")
    error_shape(world.staff.post("/api/v1/persons/lookup", {"id_number": bad}, format="json"), 400)


def test_create_api_client_institution_requires_known_code(world):
    token = create_client("another", "channel")
    assert re.fullmatch(r"\S{20,}", token)
    assert api_for(token).get("/api/v1/persons/G0001").status_code == 200


def test_unrouted_api_path_404_has_the_error_shape(world):
    error_shape(world.staff.get("/api/v1/settlements/abc"), 404)
    error_shape(world.staff.post("/api/v1/no-such-endpoint", {}, format="json"), 404)
    assert APIClient().get("/api/v1/no-such-endpoint").status_code == 401
