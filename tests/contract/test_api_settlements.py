"""api.md `POST settlements`, `GET settlements/{id}`, `POST settlements/{id}/reversal`, S1–S7, money fields."""

from decimal import Decimal

import pytest

from tests.contract.conftest import make_id
from tests.contract.test_api_authorizations import OFFSET, codes
from tests.contract.test_api_persons import error_shape

RESPONSE_FIELDS = {"id", "external_id", "status", "patient", "total_amount", "fund_paid", "personal_burden",
                   "own_account_paid", "mutual_aid_paid", "cash_paid", "grantor", "reasons"}  # fmt: skip
MONEY = ("total_amount", "fund_paid", "personal_burden", "own_account_paid", "mutual_aid_paid", "cash_paid")


def check_money(body):
    for key in MONEY:
        assert isinstance(body[key], str) and len(body[key].split(".")[1]) == 2, (key, body[key])
    d = {k: Decimal(body[k]) for k in MONEY}
    assert d["personal_burden"] == d["total_amount"] - d["fund_paid"]
    assert d["own_account_paid"] + d["mutual_aid_paid"] + d["cash_paid"] == d["personal_burden"]
    return d


def balance(world, who):
    return world.staff.get(f"/api/v1/persons/{world.people[who].person_no}").json()["balance"]


def test_member_paid_by_mutual_aid(world):
    world.bind()
    r = world.settle(total="100", fund="40.5")
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) >= RESPONSE_FIELDS
    d = check_money(body)
    assert body["status"] == "settled"
    assert body["total_amount"] == "100.00" and body["personal_burden"] == "59.50"
    assert d["own_account_paid"] == 0 and d["mutual_aid_paid"] == Decimal("59.50") and d["cash_paid"] == 0
    assert body["reasons"] == []
    assert body["grantor"]["person_no"] == "G0001" and body["grantor"]["name"] == "张*"
    assert body["patient"]["id_number"].count("*") == 8
    assert balance(world, "grantor") == "940.50"


def test_own_account_first_then_mutual_aid(world):
    world.credit("spouse", "10.00")
    pk = world.bind(member="spouse", kinship="spouse").json()["id"]
    world.channel.post(f"/api/v1/authorizations/{pk}/confirm", {"decision": "accept"}, format="json")
    body = world.settle(patient="spouse", total="50.00", fund="20.00").json()
    d = check_money(body)
    assert d["own_account_paid"] == Decimal("10.00") and d["mutual_aid_paid"] == Decimal("20.00")
    assert balance(world, "spouse") == "0.00" and balance(world, "grantor") == "980.00"


def test_own_account_covers_everything_no_grantor_needed(world):
    world.credit("spouse", "100.00")
    body = world.settle(patient="spouse", total="50.00", fund="20.00").json()
    d = check_money(body)
    assert d["own_account_paid"] == Decimal("30.00") and d["cash_paid"] == 0 and body["reasons"] == []


def test_insufficient_balance(world):
    world.bind()
    body = world.settle(total="2000.00", fund="0.00").json()
    d = check_money(body)
    assert d["mutual_aid_paid"] == Decimal("1000.00") and d["cash_paid"] == Decimal("1000.00")
    assert "INSUFFICIENT_BALANCE" in [r["code"] for r in body["reasons"]]
    assert balance(world, "grantor") == "0.00"


def test_no_authorization_all_cash(world):
    r = world.settle()
    assert r.status_code == 201
    d = check_money(r.json())
    assert d["cash_paid"] == Decimal("60.00") and r.json()["grantor"] is None
    assert "NO_AUTHORIZATION" in codes(r)


def test_family_account_only_reason(world, imp):
    imp.ok("family_links", [["持有人身份证号", "亲属身份证号", "关系", "核验方式"],
                            [world.grantor.id_number, world.child.id_number, "子女", "户口簿"]])  # fmt: skip
    r = world.settle()
    assert "FAMILY_ACCOUNT_ONLY" in codes(r)


@pytest.mark.parametrize("category", ["public_health", "fitness", "wellness"])
def test_never_eligible_category(world, category):
    world.bind()
    r = world.settle(category=category)
    d = check_money(r.json())
    assert d["cash_paid"] == Decimal("60.00") and codes(r) == ["CATEGORY_NOT_ELIGIBLE"]


@pytest.mark.parametrize("category", ["medical", "maternity", "pharmacy", "vaccine", "contribution",
                                      "commercial_insurance"])  # fmt: skip
def test_eligible_categories(world, category):
    world.bind()
    r = world.settle(category=category)
    assert check_money(r.json())["mutual_aid_paid"] == Decimal("60.00"), r.content


def test_s5_manual_reimbursement(world):
    world.bind()
    r = world.settle(channel="manual_reimbursement")
    d = check_money(r.json())
    assert d["mutual_aid_paid"] == 0 and d["cash_paid"] == Decimal("60.00")
    assert "MANUAL_REIMBURSEMENT_NOT_SUPPORTED" in codes(r)


def test_s6_cross_region_needs_filing(world, imp):
    world.bind()
    r = world.settle(world.hospital_b, external_id="N1")
    assert check_money(r.json())["mutual_aid_paid"] == 0
    assert "CROSS_REGION_NOT_FILED" in codes(r)
    imp.ok("filings", [["身份证号", "就医地", "开始日期", "结束日期"],
                       [world.child.id_number, "320100", "2024-01-01", ""]])  # fmt: skip
    r = world.settle(world.hospital_b, external_id="N2")
    assert check_money(r.json())["mutual_aid_paid"] == Decimal("60.00"), r.content


def test_s6_expired_filing_does_not_count(world, imp):
    world.bind()
    imp.ok("filings", [["身份证号", "就医地", "开始日期", "结束日期"],
                       [world.child.id_number, "320100", "2024-01-01", "2024-12-31"]])  # fmt: skip
    r = world.settle(world.hospital_b, external_id="N1")
    assert "CROSS_REGION_NOT_FILED" in codes(r)


def test_items_must_add_up(world):
    items = [{"name": "药", "kind": "drug", "amount": "50.00"}, {"name": "检查", "kind": "service", "amount": "40.00"}]
    error_shape(world.settle(items=items), 400)


def test_pharmacy_lines(world):
    world.bind()
    items = [
        {"name": "阿莫西林胶囊", "kind": "drug", "amount": "30.00"},
        {"name": "血压计", "kind": "device", "amount": "20.00"},  # exact catalogue name
        {"name": "某品牌电子血压计", "kind": "device", "catalogue_code": "D001", "amount": "15.00"},  # by code
        {"name": "按摩仪", "kind": "device", "amount": "25.00"},  # not in catalogue
        {"name": "口罩 ", "kind": "consumable", "amount": "5.00"},
        {"name": "保健品", "kind": "other", "amount": "5.00"},  # never
    ]
    r = world.settle(world.pharmacy, category="pharmacy", total="100.00", fund="0.00", items=items)
    assert r.status_code == 201, r.content
    d = check_money(r.json())
    assert d["cash_paid"] == Decimal("30.00") and d["mutual_aid_paid"] == Decimal("70.00")
    assert "CATEGORY_NOT_ELIGIBLE" in codes(r)


def test_pharmacy_exact_name_only(world):
    """Matched by exact name: a longer name without a catalogue code is not the catalogue item."""
    world.bind()
    items = [{"name": "电子血压计", "kind": "device", "amount": "20.00"}]
    r = world.settle(world.pharmacy, category="pharmacy", total="20.00", fund="0.00", items=items)
    assert check_money(r.json())["cash_paid"] == Decimal("20.00") and "CATEGORY_NOT_ELIGIBLE" in codes(r)


def test_ineligible_lines_never_below_zero(world):
    world.bind()
    items = [{"name": "保健品", "kind": "other", "amount": "80.00"}, {"name": "药", "kind": "drug", "amount": "20.00"}]
    r = world.settle(world.pharmacy, category="pharmacy", total="100.00", fund="50.00", items=items)
    d = check_money(r.json())
    assert d["mutual_aid_paid"] == 0 and d["cash_paid"] == Decimal("50.00")


def test_items_at_medical_institution_all_eligible(world):
    world.bind()
    items = [{"name": "检查", "kind": "service", "amount": "60.00"},
             {"name": "耗材", "kind": "other", "amount": "40.00"}]  # fmt: skip
    r = world.settle(items=items)
    assert check_money(r.json())["mutual_aid_paid"] == Decimal("60.00")


def test_whole_refusals_422(world):
    r = world.settle(credential={"type": "id_card", "number": world.grantor.id_number})
    error_shape(r, 422)
    assert codes(r) == ["CREDENTIAL_MISMATCH"]
    unknown = make_id("19990101", "551")
    r = world.settle(patient_id_number=unknown, credential={"type": "social_security_card", "number": unknown})
    error_shape(r, 422)
    assert codes(r) == ["PERSON_NOT_FOUND"]
    r = world.settle(world.undesignated)
    error_shape(r, 422)
    assert codes(r) == ["INSTITUTION_NOT_DESIGNATED"]
    r = world.settle(world.undesignated, patient_id_number=unknown)
    assert {"PERSON_NOT_FOUND", "CREDENTIAL_MISMATCH", "INSTITUTION_NOT_DESIGNATED"} <= set(codes(r))


def test_idempotency(world):
    world.bind()
    first = world.settle()
    assert first.status_code == 201
    replay = world.settle()
    assert replay.status_code == 200 and replay.json() == first.json()
    assert balance(world, "grantor") == "940.00"
    conflict = world.settle(total="101.00")
    error_shape(conflict, 409, "IDEMPOTENCY_CONFLICT")
    # another institution may use the same external id
    assert world.settle(world.hospital_b).status_code == 201


def test_reversal(world):
    world.credit("spouse", "10.00")
    pk = world.bind(member="spouse", kinship="spouse").json()["id"]
    world.channel.post(f"/api/v1/authorizations/{pk}/confirm", {"decision": "accept"}, format="json")
    sid = world.settle(patient="spouse").json()["id"]
    assert balance(world, "grantor") == "950.00" and balance(world, "spouse") == "0.00"
    r = world.hospital.post(f"/api/v1/settlements/{sid}/reversal", {}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "reversed"
    check_money(r.json())
    assert balance(world, "grantor") == "1000.00" and balance(world, "spouse") == "10.00"
    error_shape(world.hospital.post(f"/api/v1/settlements/{sid}/reversal", {}, format="json"), 409, "ALREADY_REVERSED")
    assert world.hospital.get(f"/api/v1/settlements/{sid}").json()["status"] == "reversed"


def test_other_institution_cannot_read_or_reverse(world):
    world.bind()
    sid = world.settle().json()["id"]
    r = world.hospital_b.get(f"/api/v1/settlements/{sid}")
    assert r.status_code in (403, 404)
    error_shape(r, r.status_code)
    r = world.hospital_b.post(f"/api/v1/settlements/{sid}/reversal", {}, format="json")
    assert r.status_code in (403, 404)
    assert balance(world, "grantor") == "940.00"
    assert world.hospital.get(f"/api/v1/settlements/{sid}").status_code == 200


def test_post_response_shows_balances_after_payment(world):
    """The summaries in the 201 body are as of the end of the settlement (after the debits)."""
    world.bind()
    body = world.settle().json()
    assert body["grantor"]["balance"] == "940.00"
    assert world.hospital.get(f"/api/v1/settlements/{body['id']}").json()["grantor"]["balance"] == "940.00"


def test_get_settlement(world):
    world.bind()
    created = world.settle(occurred_at="2025-03-01T10:00:00+08:00").json()
    r = world.hospital.get(f"/api/v1/settlements/{created['id']}")
    assert r.status_code == 200
    body = r.json()
    for key in RESPONSE_FIELDS - {"grantor", "patient"}:
        assert body[key] == created[key], key
    for key in ("grantor", "patient"):
        assert {k: v for k, v in body[key].items() if k != "balance"} == {
            k: v for k, v in created[key].items() if k != "balance"
        }
    assert OFFSET.match(body["occurred_at"]) and body["occurred_at"].startswith("2025-03-01T10:00:00")
    staff = world.staff.get(f"/api/v1/settlements/{created['id']}").json()
    assert staff["patient"]["name"] == "张小明" and staff["grantor"]["id_number"] == world.grantor.id_number
    error_shape(world.hospital.get("/api/v1/settlements/999999"), 404)


def test_occurred_at_utc_rendered_in_shanghai(world):
    body = world.settle(occurred_at="2025-03-01T02:00:00Z").json()
    assert body["occurred_at"].startswith("2025-03-01T10:00:00") and body["occurred_at"].endswith("+08:00")


@pytest.mark.parametrize(
    "field,value",
    [
        ("total_amount", 100.0),
        ("total_amount", 100),  # a JSON integer is not a decimal string either
        ("total_amount", "100.001"),
        ("total_amount", "-100.00"),
        ("total_amount", "abc"),
        ("total_amount", "NaN"),
        ("total_amount", "Infinity"),
        ("fund_paid", "-1"),
        ("fund_paid", 12.5),
        ("fund_paid", "1e2"),
    ],
)
def test_bad_amounts_400(world, field, value):
    error_shape(world.settle(**{field: value}), 400)


def test_bad_item_amount_400(world):
    items = [{"name": "药", "kind": "drug", "amount": 60.0}]
    error_shape(world.settle(total="60.00", fund="0.00", items=items), 400)
    items = [{"name": "药", "kind": "drug", "amount": "60.001"}]
    error_shape(world.settle(total="60.00", fund="0.00", items=items), 400)


def test_other_bad_bodies_400(world):
    error_shape(world.settle(category="lottery"), 400)
    error_shape(world.settle(channel="fax"), 400)
    error_shape(world.settle(credential={"type": "passport", "number": world.child.id_number}), 400)
    error_shape(world.settle(fund="200.00"), 400)
    error_shape(world.hospital.post("/api/v1/settlements", {}, format="json"), 400)


def test_replay_written_differently_is_the_same_bill(world):
    """"12.3" and "12.30" are the same amount; key order does not matter: a replay, not a conflict."""
    world.bind()
    first = world.settle(total="100.00", fund="40.00")
    replay = world.settle(total="100", fund="40.0")
    assert replay.status_code == 200 and replay.json() == first.json()
