"""The project driven from outside, as the acceptance run does: files through `import_data`, a token from
`create_api_client`, then the HTTP API only (api.md, imports.md)."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def token_for(*args):
    out = io.StringIO()
    call_command("create_api_client", *args, stdout=out)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {out.getvalue().strip().splitlines()[-1]}")
    return api


def test_import_bind_settle_report_reverse(tmp_path):
    grantor_id = factories.id_number(region_code="320502")
    mother_id = factories.id_number(region_code="320502")
    call_command("import_data", "regions", write(tmp_path, "r.csv", "区划代码,名称\n320000,江苏省\n320500,苏州市\n"),
                 stdout=io.StringIO())
    institutions = "机构编码,机构名称,机构类型,区划代码,定点\nH001,苏州市立医院,医疗机构,320500,是\n"
    call_command("import_data", "institutions", write(tmp_path, "i.csv", institutions, "gb18030"), stdout=io.StringIO())
    call_command("import_data", "policies", write(
        tmp_path, "p.csv",
        "区划代码,生效日期,共济亲属范围,地域范围,配偶需确认,限一个共济关系\n320000,2025-01-01,配偶、父母、子女,省内,是,是\n"),
        stdout=io.StringIO())
    call_command("import_data", "persons", write(
        tmp_path, "persons.csv",
        "身份证号,姓名,险种,参保状态,参保地,人员类别\n"
        f"{grantor_id},王建国,310,正常参保,320500,在职\n"
        f"{mother_id},李秀英,城乡居民基本医疗保险,正常参保,320500,\n", "utf-8-sig"),
        stdout=io.StringIO())
    call_command("import_data", "credits", write(
        tmp_path, "c.csv", f"流水号,身份证号,金额,类型,入账日期\nHR0001,{grantor_id},500.00,期初余额,2026-01-01\n"),
        stdout=io.StringIO())

    channel = token_for("网厅", "--role", "channel")
    hospital = token_for("市立医院", "--role", "institution", "--institution", "H001")
    staff = token_for("查询", "--role", "staff")

    grantor = channel.post("/api/v1/persons/lookup", {"id_number": grantor_id}, format="json").json()
    assert grantor["balance"] == "500.00" and grantor["insurance_type"] == "employee"

    created = channel.post("/api/v1/authorizations", {
        "grantor_id_number": grantor_id, "member_id_number": mother_id, "kinship": "parent",
        "promise_accepted": True}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "active"

    eligibility = hospital.post("/api/v1/eligibility", {"member_id_number": mother_id}, format="json").json()
    assert eligibility["eligible"] is True

    body = {
        "external_id": "JS-0001", "patient_id_number": mother_id,
        "credential": {"type": "e_voucher", "number": mother_id}, "category": "medical", "channel": "direct",
        "total_amount": "123.45", "fund_paid": "86.42",
    }
    settled = hospital.post("/api/v1/settlements", body, format="json")
    assert settled.status_code == 201, settled.json()
    result = settled.json()
    assert result["personal_burden"] == "37.03" and result["mutual_aid_paid"] == "37.03"
    assert result["own_account_paid"] == "0.00" and result["cash_paid"] == "0.00"
    assert hospital.post("/api/v1/settlements", body, format="json").status_code == 200  # replay

    report = staff.get(f"/api/v1/persons/{grantor['person_no']}/expenditures").json()
    assert report["total_amount"] == "37.03" and report["count"] == 1

    assert hospital.post(f"/api/v1/settlements/{result['id']}/reversal", {}, format="json").status_code == 200
    assert hospital.post(f"/api/v1/settlements/{result['id']}/reversal", {}, format="json").json()["code"] == (
        "ALREADY_REVERSED"
    )
    report = staff.get(f"/api/v1/persons/{grantor['person_no']}/expenditures").json()
    assert Decimal(report["total_amount"]) == 0
    assert staff.get(f"/api/v1/persons/{grantor['person_no']}").json()["balance"] == "500.00"
    call_command("verify_ledger", stdout=io.StringIO())
