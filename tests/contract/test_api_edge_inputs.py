"""Inputs at the edges found by fuzzing the API against its own OpenAPI schema (schemathesis): each was a 500 or an
answer the schema did not describe. api.md "Conventions": malformed input is a 400 in the error shape, never a 500;
an unknown person_no in a URL is 404 PERSON_NOT_FOUND (docs/api.md "Decisions")."""

import re

import pytest

from tests.contract.test_api_expenditures_ledger import setup_history
from tests.contract.test_api_persons import error_shape

CALENDAR_EDGES = [
    {"to": "9999-12-31"},
    {"from": "0001-01-01"},
    {"from": "0001-01-01T00:00:00+14:00"},
    {"to": "9999-12-31T23:59:59-10:00"},
    {"from": "0001-01-01", "to": "9999-12-31"},
]


@pytest.mark.parametrize("query", CALENDAR_EDGES)
@pytest.mark.parametrize("endpoint", ["expenditures", "ledger"])
def test_range_bounds_at_the_edges_of_the_calendar_are_no_bound(world, endpoint, query):
    """`to=9999-12-31` overflowed computing the day after; a bound outside year 1..9999 once in UTC overflowed on
    SQLite: both were 500s."""
    setup_history(world)
    base = f"/api/v1/persons/{world.grantor.person_no}/{endpoint}"
    everything = world.channel.get(base).json()
    r = world.channel.get(base, query)
    assert r.status_code == 200, (query, r.status_code, r.content[:300])
    assert r.json()["count"] == everything["count"] > 0


@pytest.mark.parametrize("endpoint", ["expenditures", "ledger"])
def test_range_bounds_beyond_the_calendar_select_nothing(world, endpoint):
    setup_history(world)
    base = f"/api/v1/persons/{world.grantor.person_no}/{endpoint}"
    assert world.channel.get(base, {"to": "0001-01-01T00:00:00+14:00"}).json()["count"] == 0
    assert world.channel.get(base, {"from": "9999-12-31T23:59:59-10:00"}).json()["count"] == 0


NAIVE_BEFORE_YEAR_ONE_UTC = "0001-01-01T00:00:00"  # Asia/Shanghai is ahead of UTC: no such instant in year 1 UTC


def test_settlement_occurred_at_out_of_range_is_400(world):
    body = error_shape(world.settle(occurred_at=NAIVE_BEFORE_YEAR_ONE_UTC), 400, "INVALID_INPUT")
    assert [reason.get("field") for reason in body["reasons"]] == ["occurred_at"]


@pytest.mark.parametrize("field", ["valid_from", "valid_to"])
def test_authorization_time_out_of_range_is_400(world, field):
    error_shape(world.bind(**{field: NAIVE_BEFORE_YEAR_ONE_UTC}), 400, "INVALID_INPUT")


def test_authorization_change_to_a_time_out_of_range_is_400(world):
    pk = world.bind().json()["id"]
    body = {"valid_to": NAIVE_BEFORE_YEAR_ONE_UTC}
    error_shape(world.channel.post(f"/api/v1/authorizations/{pk}/change", body, format="json"), 400, "INVALID_INPUT")


@pytest.mark.parametrize("suffix", ["", "/ledger", "/expenditures", "/authorizations"])
def test_person_no_with_a_nul_character_is_404(world, suffix):
    """PostgreSQL refuses NUL in a text parameter (DataError): `persons/%00` was a 500 there, a 404 on SQLite."""
    error_shape(world.staff.get(f"/api/v1/persons/%00{suffix}"), 404, "PERSON_NOT_FOUND")
    error_shape(world.staff.get(f"/api/v1/persons/{world.grantor.person_no}%00{suffix}"), 404, "PERSON_NOT_FOUND")


# Every status an operation answers, as the schema must list it (401 on every one: no endpoint answers anonymously).
DOCUMENTED = {
    ("post", "/api/v1/persons/lookup"): {"200", "400", "401", "404"},
    ("get", "/api/v1/persons/{person_no}"): {"200", "401", "404"},
    ("get", "/api/v1/persons/{person_no}/ledger"): {"200", "400", "401", "403", "404"},
    ("get", "/api/v1/persons/{person_no}/expenditures"): {"200", "400", "401", "403", "404"},
    ("get", "/api/v1/persons/{person_no}/authorizations"): {"200", "401", "403", "404"},
    ("post", "/api/v1/settlements"): {"200", "201", "400", "401", "403", "409", "422"},
    ("get", "/api/v1/settlements/{id}"): {"200", "401", "403", "404"},
    ("post", "/api/v1/settlements/{id}/reversal"): {"200", "401", "403", "404", "409"},
}


def test_schema_documents_the_error_statuses_each_endpoint_answers(world):
    schema = world.staff.get("/api/v1/schema").json()
    for (method, path), statuses in DOCUMENTED.items():
        responses = schema["paths"][path][method]["responses"]
        assert statuses <= set(responses), (method, path, sorted(responses))
        for status in statuses - {"200", "201"}:
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Error", (method, path, status)
    # and what they answer is what the schema says they answer
    error_shape(world.anonymous.get(f"/api/v1/persons/{world.grantor.person_no}"), 401)
    error_shape(world.hospital.get(f"/api/v1/persons/{world.grantor.person_no}/expenditures"), 403)
    error_shape(world.channel.get("/api/v1/settlements/1"), 403)
    error_shape(world.staff.post("/api/v1/persons/lookup", {}, format="json"), 400, "INVALID_INPUT")


def test_schema_money_pattern_admits_no_minus_sign(world):
    """DecimalField's generated pattern `^-?\\d{0,12}...` said "-5" and "" were amounts; they are 400s."""
    schema = world.staff.get("/api/v1/schema").json()["components"]["schemas"]
    pattern = re.compile(schema["SettlementRequestRequest"]["properties"]["total_amount"]["pattern"])
    assert pattern.search("12.30") and pattern.search("100") and pattern.search("0.5")
    assert not any(pattern.search(text) for text in ("-5", "", "-0.00", "1.234", "1e2"))
    error_shape(world.settle(total="-5"), 400, "INVALID_INPUT")
    member = schema["ExpenditureLine"]["properties"]["member"]
    assert member["allOf"] == [{"$ref": "#/components/schemas/PersonSummary"}] and member["nullable"] is True


DEEP = "[" * 5000 + "]" * 5000  # deeper than Python's JSON decoder recurses: RecursionError, not ValueError


@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded"])
@pytest.mark.parametrize(
    "who, path",
    [("staff", "persons/lookup"), ("staff", "eligibility"), ("channel", "authorizations"), ("hospital", "settlements")],
)
def test_a_body_nested_too_deeply_is_400(world, who, path, content_type):
    for body in (DEEP, '{"id_number": ' + DEEP + "}"):
        r = getattr(world, who).post(f"/api/v1/{path}", body, content_type=content_type)
        error_shape(r, 400, "INVALID_INPUT")


def test_a_null_body_is_answered_in_chinese(world):
    body = error_shape(world.staff.post("/api/v1/persons/lookup", "null", content_type="application/json"), 400)
    assert all(re.search(r"[\u4e00-\u9fff]", reason["message"]) for reason in body["reasons"]), body
    assert "No data provided" not in body["message"]


@pytest.mark.parametrize("items", [[None], [None, None], [{"name": "药", "kind": "drug", "amount": "100.00"}, None]])
def test_a_null_settlement_line_is_400(world, items):
    """`items` may be null; a line in it may not (it was let through to the sum of the lines: a 500)."""
    body = error_shape(world.settle(items=items), 400, "INVALID_INPUT")
    assert {reason["field"] for reason in body["reasons"]} <= {f"items[{i}]" for i in range(len(items))}
    assert world.settle(items=None).status_code == 201


def test_a_bad_settlement_line_is_named_by_its_index(world):
    """DRF reports a list's errors by index ({0: ..., 1: ...}): line 0 was named `items.amount`, line 1
    `items.1.kind`."""
    items = [{"name": "药", "kind": "drug", "amount": "-1.00"}, {"name": "械", "kind": "gadget", "amount": "1.00"}]
    body = error_shape(world.settle(items=items), 400, "INVALID_INPUT")
    assert {reason["field"] for reason in body["reasons"]} == {"items[0].amount", "items[1].kind"}
