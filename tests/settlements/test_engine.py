"""The settlement engine through the HTTP API, one test per rule (domain.md S1–S8)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import CrossRegionFiling, InsuranceStatus, LedgerEntry, LedgerEntryKind
from accounts.services import person_update
from bindings.models import FamilyLink, Kinship, Policy
from bindings.services import authorization_revoke
from settlements.models import Settlement
from tests import factories
from tests.settlements.helpers import balance, body, codes, ledger_sum, parts_add_up, settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(jiangsu_policy):
    """A grantor with 1000.00 and a resident parent bound to him (no own account)."""
    grantor = factories.grantor(balance="1000.00")
    member = factories.resident(name="李秀英")
    authorization = factories.authorization(grantor, member, Kinship.PARENT)
    return grantor, member, authorization


# --- S1 -------------------------------------------------------------------------------------------------


def test_s1_someone_elses_credential_refuses_the_whole_settlement(institution_api, family):
    grantor, member, _ = family
    response = settle(institution_api, member, credential=grantor.id_number)
    assert response.status_code == 422
    assert response.json()["code"] == "CREDENTIAL_MISMATCH"
    assert codes(response) == ["CREDENTIAL_MISMATCH"]
    assert not Settlement.objects.exists()
    assert balance(grantor) == Decimal("1000.00")


def test_whole_refusal_lists_every_reason(db, region_suzhou, jiangsu_policy):
    closed = factories.institution(code="H-CLOSED", region=region_suzhou, designated=False)
    from tests.conftest import _api

    api = _api("institution", institution=closed)
    stranger = factories.id_number()
    response = settle(api, stranger, credential=factories.id_number())
    assert response.status_code == 422
    assert set(codes(response)) == {"PERSON_NOT_FOUND", "CREDENTIAL_MISMATCH", "INSTITUTION_NOT_DESIGNATED"}


def test_person_not_found_is_422(institution_api, jiangsu_policy):
    response = settle(institution_api, factories.id_number())
    assert response.status_code == 422
    assert codes(response) == ["PERSON_NOT_FOUND"]


def test_lower_case_x_in_credential_is_the_same_number(institution_api, family):
    _, member, _ = family
    response = settle(institution_api, member, credential=member.id_number.lower())
    assert response.status_code == 201


# --- S2 -------------------------------------------------------------------------------------------------


def test_s2_resident_member_goes_straight_to_mutual_aid(institution_api, family):
    grantor, member, authorization = family
    response = settle(institution_api, member, total="300.00", fund="180.00")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "settled"
    assert (data["personal_burden"], data["own_account_paid"], data["mutual_aid_paid"], data["cash_paid"]) == (
        "120.00",
        "0.00",
        "120.00",
        "0.00",
    )
    assert data["reasons"] == []
    assert data["grantor"]["person_no"] == grantor.person_no
    assert data["grantor"]["name"] != grantor.name  # masked for an institution
    assert balance(grantor) == Decimal("880.00")
    entry = LedgerEntry.objects.get(kind=LedgerEntryKind.MUTUAL_AID_PAYMENT)
    settlement = Settlement.objects.get(pk=data["id"])
    assert (entry.amount, entry.member, entry.institution, entry.settlement) == (
        Decimal("-120.00"),
        member,
        settlement.institution,
        settlement,
    )
    assert settlement.authorization == authorization


def test_s2_member_own_account_pays_first_then_grantor_then_cash(institution_api, jiangsu_policy):
    grantor = factories.grantor(balance="50.00")
    member = factories.person(name="王小明", balance="30.00")
    factories.authorization(grantor, member, Kinship.CHILD)
    response = settle(institution_api, member, total="200.00", fund="100.00")
    data = response.json()
    assert (data["own_account_paid"], data["mutual_aid_paid"], data["cash_paid"]) == ("30.00", "50.00", "20.00")
    assert codes(data) == ["INSUFFICIENT_BALANCE"]
    assert parts_add_up(data)
    assert balance(member) == Decimal("0.00")
    assert balance(grantor) == Decimal("0.00")
    assert LedgerEntry.objects.filter(kind=LedgerEntryKind.OWN_PAYMENT, account__person=member).count() == 1


def test_s2_own_account_covering_everything_leaves_reasons_empty(institution_api, jiangsu_policy):
    grantor = factories.grantor(balance="500.00")
    member = factories.person(name="王小明", balance="300.00")
    factories.authorization(grantor, member, Kinship.CHILD)
    data = settle(institution_api, member, total="100.00", fund="0.00").json()
    assert (data["own_account_paid"], data["mutual_aid_paid"], data["cash_paid"]) == ("100.00", "0.00", "0.00")
    assert data["reasons"] == [] and data["grantor"] is None
    assert balance(grantor) == Decimal("500.00")


def test_s2_partial_grantor_payment_is_insufficient_balance(institution_api, jiangsu_policy):
    grantor = factories.grantor(balance="25.50")
    member = factories.resident()
    factories.authorization(grantor, member, Kinship.PARENT)
    data = settle(institution_api, member, total="100.00", fund="0.00").json()
    assert (data["mutual_aid_paid"], data["cash_paid"]) == ("25.50", "74.50")
    assert codes(data) == ["INSUFFICIENT_BALANCE"]
    assert balance(grantor) == Decimal("0.00")


def test_s2_several_grantors_pay_in_the_order_the_authorizations_were_made(institution_api, db):
    factories.policy("320000", single_relationship=False, spouse_confirmation=False)
    first = factories.grantor(name="王一", balance="10.00")
    second = factories.grantor(name="王二", balance="100.00")
    member = factories.resident()
    factories.authorization(first, member, Kinship.CHILD)
    factories.authorization(second, member, Kinship.CHILD)
    data = settle(institution_api, member, total="50.00", fund="0.00").json()
    assert (data["mutual_aid_paid"], data["cash_paid"], data["reasons"]) == ("50.00", "0.00", [])
    assert data["grantor"]["person_no"] == first.person_no
    assert (balance(first), balance(second)) == (Decimal("0.00"), Decimal("60.00"))


def test_no_authorization_and_family_account_only(institution_api, jiangsu_policy):
    member = factories.resident()
    data = settle(institution_api, member).json()
    assert codes(data) == ["NO_AUTHORIZATION"] and data["cash_paid"] == "60.00"
    owner = factories.grantor()
    FamilyLink.objects.create(owner=owner, relative=member, kinship=Kinship.CHILD, verification="household_register")
    assert codes(settle(institution_api, member)) == ["FAMILY_ACCOUNT_ONLY"]


def test_pending_spouse_confirmation_explains_cash(institution_api, jiangsu_policy):
    grantor = factories.grantor()
    spouse = factories.resident(name="赵丽")
    factories.authorization(grantor, spouse, Kinship.SPOUSE)
    data = settle(institution_api, spouse).json()
    assert "CONFIRMATION_PENDING" in codes(data) and data["mutual_aid_paid"] == "0.00"


def test_revoked_authorization_no_longer_pays(institution_api, family):
    grantor, member, authorization = family
    authorization_revoke(authorization=authorization, reason="test", channel="app")
    data = settle(institution_api, member).json()
    # api.md: AUTHORIZATION_NOT_EFFECTIVE is the reason for an authorization ended by the grantor (R12).
    assert data["mutual_aid_paid"] == "0.00" and codes(data) == ["NO_AUTHORIZATION", "AUTHORIZATION_NOT_EFFECTIVE"]


def test_member_suspended_cannot_use_mutual_aid(institution_api, jiangsu_policy):
    grantor = factories.grantor()
    member = factories.resident()
    authorization = factories.authorization(grantor, member, Kinship.PARENT)
    person_update(person=member, insurance_status=InsuranceStatus.SUSPENDED)
    data = settle(institution_api, member).json()
    assert data["mutual_aid_paid"] == "0.00"
    assert codes(data)  # R13 ended it, or R3 refuses: either way explained
    authorization.refresh_from_db()


# --- S3 -------------------------------------------------------------------------------------------------


def test_s3_only_the_personal_burden_is_shared(institution_api, family):
    grantor, member, _ = family
    data = settle(institution_api, member, total="1000.00", fund="850.00").json()
    assert data["personal_burden"] == "150.00" and data["mutual_aid_paid"] == "150.00"
    assert balance(grantor) == Decimal("850.00")


def test_s3_fund_paid_above_total_is_400(institution_api, family):
    _, member, _ = family
    response = settle(institution_api, member, total="10.00", fund="10.01")
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_INPUT"


# --- S4 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["public_health", "fitness", "wellness"])
def test_s4_ineligible_category_is_all_cash(institution_api, family, category):
    grantor, member, _ = family
    data = settle(institution_api, member, category=category, total="80.00", fund="0.00").json()
    assert (data["own_account_paid"], data["mutual_aid_paid"], data["cash_paid"]) == ("0.00", "0.00", "80.00")
    assert codes(data) == ["CATEGORY_NOT_ELIGIBLE"]
    assert balance(grantor) == Decimal("1000.00")


@pytest.mark.parametrize(
    "category", ["medical", "maternity", "pharmacy", "vaccine", "contribution", "commercial_insurance"]
)
def test_s4_eligible_categories_use_mutual_aid(institution_api, family, category):
    _, member, _ = family
    data = settle(institution_api, member, category=category).json()
    assert data["mutual_aid_paid"] == "60.00", data


def test_s4_pharmacy_lines_drugs_and_catalogue_only(pharmacy_api, family):
    grantor, member, _ = family
    items = [
        {"name": "阿莫西林胶囊", "kind": "drug", "amount": "30.00"},
        {"name": "血压计", "kind": "device", "catalogue_code": "D001", "amount": "200.00"},
        {"name": "创口贴", "kind": "consumable", "amount": "5.00"},
        {"name": "按摩椅", "kind": "device", "amount": "100.00"},
        {"name": "保健茶", "kind": "other", "amount": "40.00"},
        {"name": "代煎服务", "kind": "service", "amount": "10.00"},
    ]
    data = settle(pharmacy_api, member, category="pharmacy", total="385.00", fund="0.00", items=items).json()
    assert (data["mutual_aid_paid"], data["cash_paid"]) == ("235.00", "150.00")
    assert codes(data) == ["CATEGORY_NOT_ELIGIBLE"]
    assert [i["eligible"] for i in data["items"]] == [True, True, True, False, False, False]
    assert balance(grantor) == Decimal("765.00")


def test_s4_catalogue_matched_by_code_else_by_exact_name(pharmacy_api, family):
    """An institution's own or national code we do not hold still finds the listed name; an unlisted name with an
    unknown code does not; a known code is enough whatever the line calls the product."""
    _, member, _ = family
    items = [
        {"name": "体温计", "kind": "device", "catalogue_code": "X-THERMO-9", "amount": "20.00"},  # unknown code, listed
        {"name": "某品牌电子血压计", "kind": "device", "catalogue_code": "D001", "amount": "50.00"},  # known code
        {"name": "按摩椅", "kind": "device", "catalogue_code": "X-CHAIR", "amount": "30.00"},  # neither
    ]
    data = settle(pharmacy_api, member, category="pharmacy", total="100.00", fund="0.00", items=items).json()
    assert [i["eligible"] for i in data["items"]] == [True, True, False]
    assert (data["mutual_aid_paid"], data["cash_paid"]) == ("70.00", "30.00")
    assert codes(data) == ["CATEGORY_NOT_ELIGIBLE"]


def test_s4_catalogue_items_named_as_the_rule_texts_list_them(pharmacy_api, family):
    """S4.2 lists the catalogue in English (domain.md) and in traditional characters (seed 000, with "棉球、片" shared
    by the alcohol and iodine items): a pharmacy line named so, without our code, is the listed product; a product
    the list does not name is not, however it is written."""
    grantor, member, _ = family
    items = [
        {"name": "Blood-pressure monitors", "kind": "device", "amount": "50.00"},
        {"name": "glucose test strips", "kind": "consumable", "amount": "10.00"},
        {"name": "體溫計", "kind": "device", "amount": "8.00"},
        {"name": "棉球", "kind": "consumable", "amount": "2.00"},
        {"name": "Adhesive bandage", "kind": "consumable", "catalogue_code": "X-1", "amount": "5.00"},
        {"name": "massage chair", "kind": "device", "amount": "25.00"},
    ]
    data = settle(pharmacy_api, member, category="pharmacy", total="100.00", fund="0.00", items=items).json()
    assert [i["eligible"] for i in data["items"]] == [True, True, True, True, True, False]
    assert (data["mutual_aid_paid"], data["cash_paid"]) == ("75.00", "25.00")
    assert codes(data) == ["CATEGORY_NOT_ELIGIBLE"]
    assert balance(grantor) == Decimal("925.00")


def test_s4_shareable_never_below_zero(pharmacy_api, family):
    _, member, _ = family
    items = [
        {"name": "阿莫西林胶囊", "kind": "drug", "amount": "30.00"},
        {"name": "保健品", "kind": "other", "amount": "70.00"},
    ]
    data = settle(pharmacy_api, member, category="pharmacy", total="100.00", fund="50.00", items=items).json()
    assert (data["personal_burden"], data["mutual_aid_paid"], data["cash_paid"]) == ("50.00", "0.00", "50.00")
    assert codes(data) == ["CATEGORY_NOT_ELIGIBLE"]


def test_s4_items_must_add_up_to_total(pharmacy_api, family):
    _, member, _ = family
    items = [{"name": "阿莫西林胶囊", "kind": "drug", "amount": "30.00"}]
    response = settle(pharmacy_api, member, category="pharmacy", total="31.00", fund="0.00", items=items)
    assert response.status_code == 400


def test_s4_medical_institution_lines_are_all_burden(institution_api, family):
    _, member, _ = family
    items = [
        {"name": "诊疗费", "kind": "service", "amount": "20.00"},
        {"name": "其他", "kind": "other", "amount": "80.00"},
    ]
    data = settle(institution_api, member, items=items).json()
    assert data["mutual_aid_paid"] == "60.00" and data["reasons"] == []


# --- S5 -------------------------------------------------------------------------------------------------


def test_s5_manual_reimbursement_cannot_use_mutual_aid(institution_api, family):
    grantor, member, _ = family
    data = settle(institution_api, member, channel="manual_reimbursement").json()
    assert (data["mutual_aid_paid"], data["cash_paid"]) == ("0.00", "60.00")
    assert codes(data) == ["MANUAL_REIMBURSEMENT_NOT_SUPPORTED"]
    assert balance(grantor) == Decimal("1000.00")


def test_s5_manual_reimbursement_still_uses_the_patients_own_account(institution_api, jiangsu_policy):
    # Decision documented in settlements/services.py: S5 restricts mutual aid only.
    member = factories.person(name="王小明", balance="20.00")
    data = settle(institution_api, member, channel="manual_reimbursement").json()
    assert (data["own_account_paid"], data["cash_paid"]) == ("20.00", "40.00")
    assert "MANUAL_REIMBURSEMENT_NOT_SUPPORTED" in codes(data)


# --- S6 -------------------------------------------------------------------------------------------------


def test_s6_treated_in_another_region_without_filing(db, region_nanjing, family):
    grantor, member, _ = family
    from tests.conftest import _api

    nanjing = _api("institution", institution=factories.institution(code="H32010001", region=region_nanjing))
    data = settle(nanjing, member).json()
    assert codes(data) == ["CROSS_REGION_NOT_FILED"] and data["mutual_aid_paid"] == "0.00"
    CrossRegionFiling.objects.create(
        person=member, treatment_region=region_nanjing, start_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    data = settle(nanjing, member).json()
    assert data["mutual_aid_paid"] == "60.00" and data["reasons"] == []


def test_s6_expired_filing_does_not_count(db, region_nanjing, family):
    _, member, _ = family
    from tests.conftest import _api

    today = timezone.localdate()
    CrossRegionFiling.objects.create(
        person=member,
        treatment_region=region_nanjing,
        start_date=today - datetime.timedelta(days=30),
        end_date=today - datetime.timedelta(days=1),
    )
    nanjing = _api("institution", institution=factories.institution(code="H32010001", region=region_nanjing))
    assert codes(settle(nanjing, member)) == ["CROSS_REGION_NOT_FILED"]


def test_s6_province_wide_policy_does_not_open_another_province(db, region_nanchang, family):
    _, member, _ = family
    from tests.conftest import _api

    CrossRegionFiling.objects.create(person=member, treatment_region=region_nanchang, start_date=timezone.localdate())
    nanchang = _api("institution", institution=factories.institution(code="H36010001", region=region_nanchang))
    data = settle(nanchang, member).json()
    assert codes(data) == ["REGION_OUT_OF_SCOPE"] and data["mutual_aid_paid"] == "0.00"


def test_s6_one_policy_per_settlement_the_one_in_force_when_it_is_made(db, region_nanchang, family):
    """domain.md: the policy in force at the moment of the action applies. A bill treated before a narrower policy
    took effect but settled after it is judged, scope included, under the policy in force now; the filing is
    judged on the date of treatment, which it covers."""
    _, member, _ = family
    from tests.conftest import _api

    today = timezone.localdate()
    Policy.objects.filter(region_id="320000").update(scope="national")
    factories.policy("320000", effective_from=today - datetime.timedelta(days=1), scope="province")
    CrossRegionFiling.objects.create(
        person=member, treatment_region=region_nanchang, start_date=today - datetime.timedelta(days=30)
    )
    nanchang = _api("institution", institution=factories.institution(code="H36010001", region=region_nanchang))
    treated = timezone.now() - datetime.timedelta(days=10)  # under the national policy, settled under the provincial
    data = settle(nanchang, member, occurred_at=treated.isoformat()).json()
    assert codes(data) == ["REGION_OUT_OF_SCOPE"] and data["mutual_aid_paid"] == "0.00"


def test_r5_a_kinship_the_policy_in_force_no_longer_allows_does_not_pay(institution_api, family):
    """domain.md: the policy in force at the moment of the action applies, to the kinship (R5) as to the scope (R6).
    A parent bound under Jiangsu's policy; a newer policy in force today allows spouses and children only."""
    grantor, member, _ = family
    factories.policy("320000", effective_from=timezone.localdate(), kinships=["spouse", "child"])
    data = settle(institution_api, member).json()
    assert data["mutual_aid_paid"] == "0.00" and codes(data) == ["RELATION_NOT_ALLOWED"]
    assert balance(grantor) == Decimal("1000.00")
    response = institution_api.post("/api/v1/eligibility", {"member_id_number": member.id_number}, format="json")
    assert response.json()["eligible"] is False and codes(response) == ["RELATION_NOT_ALLOWED"]


# --- S7 -------------------------------------------------------------------------------------------------


def test_s7_grantor_balance_zero_pays_nothing(institution_api, jiangsu_policy):
    grantor = factories.grantor(balance="10.00")
    member = factories.resident()
    factories.authorization(grantor, member, Kinship.PARENT)
    settle(institution_api, member, total="10.00", fund="0.00")
    assert balance(grantor) == Decimal("0.00")
    data = settle(institution_api, member, total="10.00", fund="0.00").json()
    assert (data["mutual_aid_paid"], data["cash_paid"]) == ("0.00", "10.00")
    assert codes(data) == ["GRANTOR_BALANCE_ZERO"]


# --- S8 -------------------------------------------------------------------------------------------------


def test_s8_grantor_sees_expenditure_details_with_reversals_and_net_total(institution_api, channel_api, family):
    grantor, member, _ = family
    first = settle(institution_api, member, total="100.00", fund="40.00").json()
    settle(institution_api, member, total="50.00", fund="0.00")
    assert institution_api.post(f"/api/v1/settlements/{first['id']}/reversal").status_code == 200
    response = channel_api.get(f"/api/v1/persons/{grantor.person_no}/expenditures")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    assert data["total_amount"] == "50.00"
    assert Decimal("1000.00") - Decimal(data["total_amount"]) == balance(grantor)
    lines = data["results"]
    assert [line["amount"] for line in lines] == ["-60.00", "50.00", "60.00"]  # newest first
    refund, second, paid = lines
    assert paid["reversed"] is True and second["reversed"] is False and refund["reversed"] is False
    assert refund["settlement_id"] == paid["settlement_id"] == first["id"]
    assert paid["kinship"] == "parent" and paid["category"] == "medical"
    assert paid["institution"]["code"] == "H32050001"
    assert paid["member"]["person_no"] == member.person_no and paid["member"]["name"] != member.name
    assert paid["balance_after"] == "940.00"
    assert {"settlement_id", "occurred_at", "member", "kinship", "institution", "category", "amount"} <= set(paid)


def test_s8_expenditure_range_and_roles(institution_api, staff_api, channel_api, family):
    grantor, member, _ = family
    past = timezone.now() - datetime.timedelta(days=40)
    settle(institution_api, member, occurred_at=past.isoformat())
    settle(institution_api, member)
    today = timezone.localdate().isoformat()
    data = staff_api.get(f"/api/v1/persons/{grantor.person_no}/expenditures?from={today}&to={today}").json()
    assert data["count"] == 1 and data["total_amount"] == "60.00"
    assert data["results"][0]["member"]["name"] == member.name  # staff sees in full
    assert institution_api.get(f"/api/v1/persons/{grantor.person_no}/expenditures").status_code == 403
    assert channel_api.get("/api/v1/persons/nope/expenditures").status_code == 404
    assert channel_api.get(f"/api/v1/persons/{grantor.person_no}/expenditures?from=bad").status_code == 400


def test_ledger_endpoint_shows_settlement_and_counterparty(institution_api, channel_api, family):
    grantor, member, _ = family
    data = settle(institution_api, member).json()
    entries = channel_api.get(f"/api/v1/persons/{grantor.person_no}/ledger").json()["results"]
    assert entries[0]["settlement_id"] == data["id"]
    assert entries[0]["counterparty"]["member"]["person_no"] == member.person_no
    assert entries[0]["counterparty"]["institution"]["code"] == "H32050001"


# --- Idempotency, reversal, access -------------------------------------------------------------------------


def test_identical_replay_returns_the_first_response_and_moves_nothing(institution_api, family):
    grantor, member, _ = family
    items = [{"name": "门诊诊查费", "kind": "service", "amount": "60.00"},
             {"name": "头孢克肟片", "kind": "drug", "catalogue_code": "", "amount": "40.00"}]  # fmt: skip
    payload = body(member, items=items)
    first = institution_api.post("/api/v1/settlements", payload, format="json")
    again = institution_api.post("/api/v1/settlements", payload, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    # Byte for byte, nested objects included (on PostgreSQL the stored copy is jsonb, which reorders keys).
    assert again.content == first.content
    assert balance(grantor) == Decimal("940.00")
    assert Settlement.objects.count() == 1
    rewritten = dict(payload, total_amount="100.0", fund_paid="40")  # same amounts written differently
    assert institution_api.post("/api/v1/settlements", rewritten, format="json").status_code == 200


def test_same_external_id_other_body_is_409(institution_api, family):
    _, member, _ = family
    payload = body(member)
    institution_api.post("/api/v1/settlements", payload, format="json")
    response = institution_api.post("/api/v1/settlements", dict(payload, total_amount="101.00"), format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "IDEMPOTENCY_CONFLICT"


def test_same_external_id_at_another_institution_is_another_settlement(institution_api, pharmacy_api, family):
    _, member, _ = family
    payload = body(member)
    assert institution_api.post("/api/v1/settlements", payload, format="json").status_code == 201
    assert pharmacy_api.post("/api/v1/settlements", payload, format="json").status_code == 201


def test_reversal_credits_every_account_back_and_a_second_is_409(institution_api, jiangsu_policy):
    grantor = factories.grantor(balance="50.00")
    member = factories.person(name="王小明", balance="30.00")
    factories.authorization(grantor, member, Kinship.CHILD)
    data = settle(institution_api, member, total="100.00", fund="0.00").json()
    response = institution_api.post(f"/api/v1/settlements/{data['id']}/reversal")
    assert response.status_code == 200
    assert response.json()["status"] == "reversed" and response.json()["reversed_at"]
    assert (balance(grantor), balance(member)) == (Decimal("50.00"), Decimal("30.00"))
    refunds = LedgerEntry.objects.filter(kind=LedgerEntryKind.REFUND)
    assert refunds.count() == 2
    assert all(r.reverses is not None and r.settlement_id == data["id"] for r in refunds)
    assert refunds.get(account__person=grantor).member == member
    again = institution_api.post(f"/api/v1/settlements/{data['id']}/reversal")
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_REVERSED"
    assert (balance(grantor), balance(member)) == (Decimal("50.00"), Decimal("30.00"))
    assert ledger_sum(grantor) == balance(grantor)
    assert institution_api.get(f"/api/v1/settlements/{data['id']}").json()["status"] == "reversed"


def test_other_institution_cannot_read_or_reverse(institution_api, pharmacy_api, staff_api, channel_api, family):
    grantor, member, _ = family
    data = settle(institution_api, member).json()
    assert pharmacy_api.get(f"/api/v1/settlements/{data['id']}").status_code == 404
    assert pharmacy_api.post(f"/api/v1/settlements/{data['id']}/reversal").status_code == 404
    assert channel_api.get(f"/api/v1/settlements/{data['id']}").status_code == 403
    staff_view = staff_api.get(f"/api/v1/settlements/{data['id']}").json()
    assert staff_view["patient"]["name"] == member.name and staff_view["grantor"]["id_number"] == grantor.id_number
    own = institution_api.get(f"/api/v1/settlements/{data['id']}").json()
    assert own["patient"]["id_number"] != member.id_number and "*" in own["patient"]["id_number"]
    assert institution_api.get("/api/v1/settlements/999999").status_code == 404


def test_only_institutions_post_settlements(channel_api, staff_api, anonymous_api, family):
    _, member, _ = family
    assert settle(channel_api, member).status_code == 403
    assert settle(staff_api, member).status_code == 403
    assert settle(anonymous_api, member).status_code == 401


@pytest.mark.parametrize(
    "field,value",
    [
        ("total_amount", 100.0),
        ("total_amount", "100.001"),
        ("total_amount", "-1.00"),
        ("total_amount", "abc"),
        ("fund_paid", 40.5),
        ("fund_paid", "-0.01"),
        ("fund_paid", "1.234"),
        ("total_amount", "-0.00"),  # a minus sign is a negative amount, zero or not
        ("fund_paid", "-0"),
    ],
)
def test_amount_validation_is_400(institution_api, family, field, value):
    _, member, _ = family
    response = institution_api.post("/api/v1/settlements", dict(body(member), **{field: value}), format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "INVALID_INPUT"
    assert not Settlement.objects.exists()


def test_optional_fields_may_be_null_and_mean_absent(institution_api, pharmacy_api, family):
    """api.md marks `items?`, `catalogue_code?` and `occurred_at?` optional: null is accepted as "not given", and a
    replay that leaves them out is the same bill (200, the first response)."""
    _, member, _ = family
    sent = body(member, items=None, occurred_at=None)
    first = institution_api.post("/api/v1/settlements", sent, format="json")
    assert first.status_code == 201, first.json()
    absent = {k: v for k, v in sent.items() if k not in ("items", "occurred_at")}
    replay = institution_api.post("/api/v1/settlements", absent, format="json")
    assert replay.status_code == 200 and replay.json() == first.json()
    line = {"name": "阿莫西林胶囊", "kind": "drug", "catalogue_code": None, "amount": "100.00"}
    response = pharmacy_api.post(
        "/api/v1/settlements", body(member, category="pharmacy", items=[line]), format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["items"][0]["catalogue_code"] == ""


@pytest.mark.parametrize(
    "mutation",
    [
        {"category": "spa"},
        {"channel": "post"},
        {"credential": {"type": "passport", "number": "x" * 18}},
        {"items": [{"name": "x", "kind": "drug", "amount": 1.5}]},
    ],
)
def test_malformed_bodies_are_400(institution_api, family, mutation):
    _, member, _ = family
    response = institution_api.post("/api/v1/settlements", dict(body(member), **mutation), format="json")
    assert response.status_code == 400


def test_response_shape_and_schema(institution_api, family, staff_api):
    _, member, _ = family
    data = settle(institution_api, member).json()
    for key in (
        "id",
        "external_id",
        "status",
        "patient",
        "total_amount",
        "fund_paid",
        "personal_burden",
        "own_account_paid",
        "mutual_aid_paid",
        "cash_paid",
        "grantor",
        "reasons",
    ):
        assert key in data
    assert data["occurred_at"].endswith("+08:00")
    from django.test import Client

    schema = Client().get("/api/v1/schema").content.decode()
    assert "/api/v1/settlements" in schema and "expenditures" in schema and "reversal" in schema
