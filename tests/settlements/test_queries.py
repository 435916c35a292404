"""Pins the number of database round trips of one settlement, so that an N+1 or a re-read cannot creep back
(docs/benchmarks.md, "Settlements": 21 before, 11, 10 with the first response stored by the INSERT, then 6 on
PostgreSQL with the payers and policies read with the patient and the writes in one statement). Counts include the
SAVEPOINT / RELEASE that the test's own transaction turns the engine's atomic block into (BEGIN / COMMIT in
production)."""

from decimal import Decimal

import pytest
from django.db import connection

from bindings.models import Kinship
from tests import factories
from tests.settlements.helpers import balance, body, settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(jiangsu_policy):
    grantor = factories.grantor(balance="1000.00")
    member = factories.resident(name="李秀英")
    factories.authorization(grantor, member, Kinship.PARENT)
    return member


def writes(statements_elsewhere: int) -> int:
    """The writes of one settlement: one statement on PostgreSQL (accounts.db.insert_together), one by one elsewhere."""
    return 1 if connection.vendor == "postgresql" else statements_elsewhere


def test_one_mutual_aid_settlement_is_six_queries_on_postgresql(institution_api, member, django_assert_num_queries):
    settle(institution_api, factories.resident(name="热身"))  # warm caches outside the count (content types)
    # token; patient + idempotency key + authorizations, grantor accounts and policies; savepoint; lock; the writes
    # (settlement with its stored response, ledger entry, balance); release
    with django_assert_num_queries(5 + writes(3)):
        response = settle(institution_api, member)
    assert response.status_code == 201
    assert response.json()["mutual_aid_paid"] == "60.00"


def test_own_account_and_grantor_pay_with_one_ledger_insert(institution_api, jiangsu_policy, django_assert_num_queries):
    grantor = factories.grantor(balance="50.00")
    member = factories.person(name="王小明", balance="30.00")
    factories.authorization(grantor, member, Kinship.CHILD)
    # elsewhere: settlement, one ledger INSERT for both entries, one balance UPDATE per account
    with django_assert_num_queries(5 + writes(4)):
        response = settle(institution_api, member, total="100.00", fund="20.00")
    data = response.json()
    assert (data["own_account_paid"], data["mutual_aid_paid"], data["cash_paid"]) == ("30.00", "50.00", "0.00")
    assert balance(member) == Decimal("0.00") and balance(grantor) == Decimal("0.00")


def test_replay_is_three_queries(institution_api, member, django_assert_max_num_queries):
    payload = body(member)
    first = institution_api.post("/api/v1/settlements", payload, format="json")
    with django_assert_max_num_queries(3):  # token, patient + key, the stored settlement
        again = institution_api.post("/api/v1/settlements", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


def test_response_shows_balances_after_the_settlement(institution_api, jiangsu_policy):
    grantor = factories.grantor(balance="50.00")
    member = factories.person(name="王小明", balance="30.00")
    factories.authorization(grantor, member, Kinship.CHILD)
    data = settle(institution_api, member, total="100.00", fund="40.00").json()
    assert data["patient"]["balance"] == "0.00"
    assert data["grantor"]["balance"] == "20.00"


def test_expenditure_page_is_four_queries(institution_api, staff_api, jiangsu_policy, django_assert_max_num_queries):
    grantor = factories.grantor(balance="1000.00")
    for i in range(3):
        member = factories.resident(name=f"成员{i}")
        factories.authorization(grantor, member, Kinship.CHILD)
        settle(institution_api, member)
    # token, person with account, totals with the count (one aggregate), the page (no second COUNT)
    with django_assert_max_num_queries(4):
        response = staff_api.get(f"/api/v1/persons/{grantor.person_no}/expenditures")
    data = response.json()
    assert (data["count"], data["total_amount"], len(data["results"])) == (3, "180.00", 3)
