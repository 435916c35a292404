"""API conventions (api.md): token auth, error shape, masking by role, no ID number in URLs."""

import pytest
from django.utils import timezone

from accounts.models import LedgerEntryKind
from accounts.services import account_debit
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhang():
    return factories.person(name="张三丰", balance="88.50")


def lookup(api, id_number):
    return api.post("/api/v1/persons/lookup", {"id_number": id_number}, format="json")


def test_anonymous_requests_are_refused_with_the_error_shape(anonymous_api, zhang):
    response = lookup(anonymous_api, zhang.id_number)
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "reasons"}
    assert anonymous_api.get(f"/api/v1/persons/{zhang.person_no}").status_code == 401


def test_wrong_token_is_refused(anonymous_api, zhang):
    anonymous_api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert lookup(anonymous_api, zhang.id_number).status_code == 401


def test_lookup_returns_summary_masked_for_channel(channel_api, zhang):
    body = lookup(channel_api, zhang.id_number).json()
    assert body == {
        "person_no": zhang.person_no,
        "name": "张**",
        "id_number": zhang.id_number[:6] + "********" + zhang.id_number[-4:],
        "insurance_type": "employee",
        "insurance_status": "normal",
        "region": "320500",
        "has_account": True,
        "balance": "88.50",
    }


def test_staff_role_sees_names_and_id_numbers_in_full(staff_api, zhang):
    body = staff_api.get(f"/api/v1/persons/{zhang.person_no}").json()
    assert body["name"] == "张三丰" and body["id_number"] == zhang.id_number


def test_institution_sees_masked_summary(institution_api, zhang):
    body = lookup(institution_api, zhang.id_number).json()
    assert body["name"] == "张**" and "*" in body["id_number"]


def test_resident_has_no_account_and_null_balance(channel_api):
    resident = factories.resident()
    body = lookup(channel_api, resident.id_number).json()
    assert body["insurance_type"] == "resident" and body["has_account"] is False and body["balance"] is None


def test_account_kept_after_a_move_to_resident_insurance_is_shown(channel_api, zhang, institution_api):
    """The roster may move an employee to resident insurance; the personal account and its balance stay the person's
    (S2 pays from it first), so the summary shows them, in the settlement's response too."""
    from accounts.models import InsuranceType
    from accounts.services import person_update
    from tests.settlements.helpers import settle

    person_update(person=zhang, insurance_type=InsuranceType.RESIDENT)
    body = lookup(channel_api, zhang.id_number).json()
    assert body["insurance_type"] == "resident" and body["has_account"] is True and body["balance"] == "88.50"
    data = settle(institution_api, zhang, total="30.00", fund="20.00").json()
    assert data["own_account_paid"] == "10.00"
    assert data["patient"]["has_account"] is True and data["patient"]["balance"] == "78.50"


def test_json_body_is_read_whatever_its_content_type(channel_api, zhang):
    """api.md "JSON in and out": a JSON body sent as form data (curl -d) or with no Content-Type is still JSON; a body
    that is not JSON is malformed input, 400, never 415."""
    import json

    text = json.dumps({"id_number": zhang.id_number})
    # "": no Content-Type header (what a WSGI server hands Django then)
    for content_type in ("application/x-www-form-urlencoded", "text/plain", ""):
        response = channel_api.generic("POST", "/api/v1/persons/lookup", text, content_type=content_type)
        assert response.status_code == 200, (content_type, response.content)
        assert response.json()["person_no"] == zhang.person_no
    form = "application/x-www-form-urlencoded"
    response = channel_api.post("/api/v1/persons/lookup", "id_number=1", content_type=form)
    assert response.status_code == 400 and response.json()["code"] == "INVALID_INPUT"


def test_unknown_person_is_404_person_not_found(channel_api):
    response = lookup(channel_api, factories.id_number())
    assert response.status_code == 404 and response.json()["code"] == "PERSON_NOT_FOUND"
    assert channel_api.get("/api/v1/persons/NOPE").status_code == 404


@pytest.mark.parametrize("body", [{}, {"id_number": "123"}, {"id_number": None}])
def test_malformed_lookup_is_400(channel_api, body):
    response = channel_api.post("/api/v1/persons/lookup", body, format="json")
    assert response.status_code == 400 and response.json()["code"]


def test_ledger_lists_signed_amounts_newest_first(channel_api, zhang):
    account_debit(account=zhang.account, amount="8.50", kind=LedgerEntryKind.OWN_PAYMENT)
    body = channel_api.get(f"/api/v1/persons/{zhang.person_no}/ledger").json()
    amounts = [line["amount"] for line in body["results"]]
    assert amounts == ["-8.50", "88.50"]
    assert body["results"][0]["balance_after"] == "80.00"
    assert body["results"][0]["kind"] == "own_payment"
    assert {"occurred_at", "settlement_id", "counterparty"} <= set(body["results"][0])
    assert body["results"][0]["occurred_at"].endswith("+08:00")


def test_ledger_date_filters_and_bad_dates(channel_api, zhang):
    assert channel_api.get(f"/api/v1/persons/{zhang.person_no}/ledger?from=2000-01-01&to=2000-01-31").json()[
        "results"
    ] == []
    for bad in ("yesterday", "2026-02-30", "2026-13-01T00:00:00"):
        response = channel_api.get(f"/api/v1/persons/{zhang.person_no}/ledger?from={bad}")
        assert response.status_code == 400, bad


def test_institution_may_not_read_a_whole_ledger(institution_api, zhang):
    assert institution_api.get(f"/api/v1/persons/{zhang.person_no}/ledger").status_code == 403


def test_schema_documents_the_endpoints(client):
    response = client.get("/api/v1/schema")
    assert response.status_code == 200
    schema = response.json()  # JSON by default ("JSON in and out"); YAML when asked for
    assert schema["openapi"].startswith("3.")
    for path in ["/api/v1/persons/lookup", "/api/v1/persons/{person_no}", "/api/v1/persons/{person_no}/ledger"]:
        assert path in schema["paths"]
    assert client.get("/api/v1/schema?format=yaml").content.decode().startswith("openapi: 3.")
    assert client.get("/api/v1/docs").status_code == 200


def test_schema_describes_the_ledger_as_paginated(client):
    schema = client.get("/api/v1/schema").json()
    ledger = schema["paths"]["/api/v1/persons/{person_no}/ledger"]["get"]
    assert {"from", "to", "page", "page_size"} <= {p["name"] for p in ledger["parameters"]}
    ref = ledger["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    envelope = schema["components"]["schemas"][ref]
    assert {"count", "next", "previous", "results"} <= set(envelope["properties"])


@pytest.mark.parametrize("suffix", ["", "/ledger", "/expenditures", "/authorizations"])
def test_unknown_person_no_is_404_person_not_found_on_every_person_path(staff_api, suffix):
    response = staff_api.get(f"/api/v1/persons/NO-SUCH-PERSON{suffix}")
    assert response.status_code == 404
    assert response.json()["code"] == "PERSON_NOT_FOUND" and response.json()["message"]


def test_no_endpoint_takes_an_id_number_in_its_url(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/json").content.decode()
    assert "id_number}" not in schema


def test_ledger_to_date_includes_that_whole_day(channel_api, zhang):
    today = timezone.localdate().isoformat()
    body = channel_api.get(f"/api/v1/persons/{zhang.person_no}/ledger?from={today}&to={today}").json()
    assert len(body["results"]) == 1
