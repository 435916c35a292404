"""Settlements at the same moment (PostgreSQL: real row locks and concurrent connections)."""

import json
from decimal import Decimal

import pytest
from django.db import connection

from accounts.models import LedgerEntry, LedgerEntryKind
from bindings.models import Kinship
from settlements.models import Settlement
from tests import factories
from tests.concurrency import run_together
from tests.conftest import _api
from tests.settlements.helpers import balance, body, ledger_sum

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_identical_requests_have_one_effect(db, region_suzhou):
    factories.policy("320000", spouse_confirmation=False)
    institution = factories.institution(code="H-RACE", region=region_suzhou)
    api_client, token = factories.api_client(role="institution", institution=institution)
    grantor = factories.grantor(balance="1000.00")
    member = factories.resident()
    factories.authorization(grantor, member, Kinship.PARENT)
    payload = body(member, total="100.00", fund="0.00")

    def post():
        from rest_framework.test import APIClient

        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = api.post("/api/v1/settlements", payload, format="json")
        return response.status_code, response.json()

    results = run_together([post] * 6)
    assert all(isinstance(r, tuple) for r in results), results
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 5 + [201]
    bodies = {json.dumps(data, sort_keys=True) for _, data in results}
    assert len(bodies) == 1
    assert Settlement.objects.count() == 1
    assert balance(grantor) == Decimal("900.00")
    assert LedgerEntry.objects.filter(kind=LedgerEntryKind.MUTUAL_AID_PAYMENT).count() == 1


def test_parallel_members_of_one_grantor_never_overdraw(db, region_suzhou):
    factories.policy("320000", spouse_confirmation=False)
    institution = factories.institution(code="H-HOT", region=region_suzhou)
    _, token = factories.api_client(role="institution", institution=institution)
    grantor = factories.grantor(balance="250.00")
    members = [factories.resident(name=f"成员{i}") for i in range(4)]
    for member in members:
        factories.authorization(grantor, member, Kinship.CHILD)
    bills = [(member, n) for member in members for n in range(2)]

    def job(member, n):
        def post():
            from rest_framework.test import APIClient

            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            response = api.post(
                "/api/v1/settlements",
                body(member, total="40.00", fund="0.00", external_id=f"HOT-{member.pk}-{n}"),
                format="json",
            )
            return response.status_code, response.json()

        return post

    results = run_together([job(m, n) for m, n in bills])
    assert all(isinstance(r, tuple) and r[0] == 201 for r in results), results
    paid = sum(Decimal(data["mutual_aid_paid"]) for _, data in results)
    assert paid == Decimal("250.00")  # 8 bills of 40.00 against 250.00: exactly the balance, no more
    assert balance(grantor) == Decimal("0.00")
    assert ledger_sum(grantor) == balance(grantor)
    partial = [data for _, data in results if "INSUFFICIENT_BALANCE" in [r["code"] for r in data["reasons"]]]
    assert len(partial) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_ledgerentry WHERE balance_after < 0")
        assert cursor.fetchone()[0] == 0


def test_parallel_reversals_credit_back_once(db, region_suzhou):
    factories.policy("320000", spouse_confirmation=False)
    institution = factories.institution(code="H-REV", region=region_suzhou)
    api = _api("institution", institution=institution)
    _, token = factories.api_client(role="institution", institution=institution)
    grantor = factories.grantor(balance="100.00")
    member = factories.resident()
    factories.authorization(grantor, member, Kinship.PARENT)
    settlement_id = api.post("/api/v1/settlements", body(member, total="30.00", fund="0.00"), format="json").json()[
        "id"
    ]

    def reverse():
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client.post(f"/api/v1/settlements/{settlement_id}/reversal").status_code

    results = run_together([reverse] * 4)
    assert sorted(results) == [200, 409, 409, 409]
    assert balance(grantor) == Decimal("100.00")
    assert ledger_sum(grantor) == balance(grantor)
