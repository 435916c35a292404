"""Further sentences of api.md / domain.md: S2 order with several grantors, S6 cross-province, S7, R11 at
settlement, `reasons` explaining every unpaid part, schema/docs pages, confirm on a non-pending authorization,
R13 recorded as done by the roster import."""

from decimal import Decimal

from tests.contract.conftest import NEAR, PERSON_HEADER, api_for, create_client
from tests.contract.test_api_authorizations import POLICY_HEADER, codes, roster_row
from tests.contract.test_api_persons import error_shape
from tests.contract.test_api_settlements import balance, check_money


def test_cash_always_explained(world):
    """Own account pays part, no authorization: the cash part carries NO_AUTHORIZATION."""
    world.credit("spouse", "10.00")
    r = world.settle(patient="spouse", total="50.00", fund="20.00")
    d = check_money(r.json())
    assert d["own_account_paid"] == Decimal("10.00") and d["cash_paid"] == Decimal("20.00")
    assert "NO_AUTHORIZATION" in codes(r)


def test_several_reasons_for_the_cash_part(world):
    world.bind()
    items = [{"name": "保健品", "kind": "other", "amount": "10.00"},
             {"name": "药", "kind": "drug", "amount": "1990.00"}]  # fmt: skip
    r = world.settle(world.pharmacy, category="pharmacy", total="2000.00", fund="0.00", items=items)
    d = check_money(r.json())
    assert d["mutual_aid_paid"] == Decimal("1000.00") and d["cash_paid"] == Decimal("1000.00")
    assert {"CATEGORY_NOT_ELIGIBLE", "INSUFFICIENT_BALANCE"} <= set(codes(r))


def test_s7_grantor_balance_zero_at_settlement(world, imp):
    world.bind()
    imp.ok("credits", [["流水号", "身份证号", "金额", "类型", "入账日期"],
                       ["ADJ", world.grantor.id_number, "-1000.00", "调整", "2025-02-01"]])  # fmt: skip
    r = world.settle()
    assert check_money(r.json())["cash_paid"] == Decimal("60.00")
    assert "GRANTOR_BALANCE_ZERO" in codes(r)


def test_r11_pending_spouse_pays_cash(world):
    world.bind(member="spouse", kinship="spouse")
    r = world.settle(patient="spouse")
    assert check_money(r.json())["mutual_aid_paid"] == 0
    assert "CONFIRMATION_PENDING" in codes(r)


def test_s6_cross_province_not_open_under_province_policy(world, imp):
    world.bind()
    imp.ok("filings", [["身份证号", "就医地", "开始日期", "结束日期"],
                       [world.child.id_number, "360100", "2024-01-01", ""]])  # fmt: skip
    nanchang = api_for(create_client("nanchang", "institution", "H004"))
    r = world.settle(nanchang)
    assert check_money(r.json())["mutual_aid_paid"] == 0
    assert "REGION_OUT_OF_SCOPE" in codes(r)


def test_s2_several_grantors_in_order_made(world, imp):
    imp.ok("policies", [POLICY_HEADER, ["320000", "2025-01-01", NEAR, "省内", "是", "否"]])
    world.credit("other_grantor", "10.00")
    assert world.bind(grantor="other_grantor").status_code == 201
    assert world.bind().status_code == 201
    r = world.settle()
    body = r.json()
    d = check_money(body)
    assert d["mutual_aid_paid"] == Decimal("60.00") and d["cash_paid"] == 0
    assert body["grantor"]["person_no"] == world.other_grantor.person_no  # the first authorization pays first
    assert balance(world, "other_grantor") == "0.00" and balance(world, "grantor") == "950.00"
    sid = body["id"]
    assert world.hospital.post(f"/api/v1/settlements/{sid}/reversal", {}, format="json").status_code == 200
    assert balance(world, "other_grantor") == "10.00" and balance(world, "grantor") == "1000.00"


def test_r8_member_account_never_drawn_for_grantor(world):
    world.credit("spouse", "500.00")
    pk = world.bind(member="spouse", kinship="spouse").json()["id"]
    world.channel.post(f"/api/v1/authorizations/{pk}/confirm", {"decision": "accept"}, format="json")
    imp_balance = balance(world, "grantor")
    r = world.settle(patient="grantor", total="2000.00", fund="0.00")
    d = check_money(r.json())
    assert d["own_account_paid"] == Decimal(imp_balance) and d["mutual_aid_paid"] == 0
    assert balance(world, "spouse") == "500.00"


def test_eligibility_with_grantor_and_kinship_other(world):
    r = world.hospital.post("/api/v1/eligibility", {"member_id_number": world.mother.id_number,
                                                    "grantor_id_number": world.grantor.id_number,
                                                    "kinship": "other"}, format="json")  # fmt: skip
    assert r.json()["eligible"] is False and "RELATION_NOT_ALLOWED" in codes(r)


def test_confirm_only_pending(world):
    pk = world.bind().json()["id"]
    error_shape(world.channel.post(f"/api/v1/authorizations/{pk}/confirm", {"decision": "accept"}, format="json"), 409)


def test_revoke_pending(world):
    pk = world.bind(member="spouse", kinship="spouse").json()["id"]
    r = world.channel.post(f"/api/v1/authorizations/{pk}/revoke", {"reason": "不再需要"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "revoked"


def test_r13_end_reason_names_the_roster_import(world, imp):
    pk = world.bind().json()["id"]
    imp.ok("persons", [PERSON_HEADER, roster_row("grantor", "终止参保")])
    items = world.staff.get(f"/api/v1/persons/{world.grantor.person_no}/authorizations").json()["results"]
    record = next(i for i in items if i["id"] == pk)
    assert record["status"] == "terminated" and "导入" in record["end_reason"]
    r = world.settle()
    assert check_money(r.json())["mutual_aid_paid"] == 0


def test_schema_and_docs_pages(world):
    assert world.anonymous.get("/api/v1/schema").status_code in (200, 401, 403)
    r = world.staff.get("/api/v1/schema")
    assert r.status_code == 200 and b"openapi" in r.content
    assert world.staff.get("/api/v1/docs").status_code == 200
    text = r.content.decode()
    for path in ("/api/v1/persons/lookup", "/api/v1/persons/{person_no}/authorizations",
                 "/api/v1/persons/{person_no}/expenditures", "/api/v1/persons/{person_no}/ledger",
                 "/api/v1/authorizations/{id}/confirm", "/api/v1/eligibility",
                 "/api/v1/settlements/{id}/reversal"):  # fmt: skip
        assert path in text, path
