"""Black-box helpers for the contract tests: the project is driven only the way the acceptance run drives it,
through `import_data` / `create_api_client` on real files and the HTTP API under /api/v1/ with a token."""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts.id_numbers import check_character

REGIONS = [
    ["区划代码", "名称"],
    ["320000", "江苏省"],
    ["320100", "南京市"],
    ["320500", "苏州市"],
    ["360000", "江西省"],
    ["360100", "南昌市"],
]
INSTITUTIONS = [
    ["机构编码", "机构名称", "机构类型", "区划代码", "定点"],
    ["H001", "苏州市立医院", "医疗机构", "320500", "是"],
    ["H002", "苏州某诊所", "医疗机构", "320500", "否"],
    ["H003", "南京鼓楼医院", "医疗机构", "320100", "是"],
    ["H004", "南昌大学一附院", "医疗机构", "360100", "是"],
    ["P001", "苏州老百姓大药房", "零售药店", "320500", "是"],
]
NEAR = "配偶、父母、子女、兄弟姐妹、祖父母、外祖父母、孙子女、外孙子女"
POLICIES = [
    ["区划代码", "生效日期", "共济亲属范围", "地域范围", "配偶需确认", "限一个共济关系"],
    ["320000", "2024-01-01", NEAR, "省内", "是", "是"],
]


def make_id(birth: str, seq: str = "001", region: str = "320102") -> str:
    first = f"{region}{birth}{seq}"
    return first + check_character(first)


@dataclass
class P:
    """One person of the standard world: ID number, name, and (after import) person_no."""

    id_number: str
    name: str
    person_no: str


# Grantor (employee, Suzhou), his child (resident), his spouse (employee, Suzhou), his mother (resident),
# a sibling in Nanjing (resident), someone in Nanchang (resident), a stranger grantor (employee, Suzhou).
PEOPLE = {
    "grantor": (make_id("19700101", "011"), "张三", "职工基本医疗保险", "320500", "G0001"),
    "child": (make_id("20000505", "022"), "张小明", "城乡居民基本医疗保险", "320500", "C0001"),
    "spouse": (make_id("19720202", "024"), "欧阳娜娜", "310", "320500", "S0001"),
    "mother": (make_id("19450303", "042"), "李四", "390", "320500", "M0001"),
    "sibling": (make_id("19750404", "031"), "张五", "390", "320100", "B0001"),
    "faraway": (make_id("19800808", "051"), "王六", "390", "360100", "F0001"),
    "other_grantor": (make_id("19660606", "061"), "赵七", "职工基本医疗保险", "320500", "O0001"),
}
PERSON_HEADER = ["身份证号", "姓名", "险种", "参保状态", "参保地", "人员类别", "人员编号", "手机号"]


def write_csv(path: Path, rows, encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


@dataclass
class Result:
    ok: bool
    output: str


class Importer:
    """`python manage.py import_data RESOURCE FILE [--dry-run]` on a real file; CommandError = non-zero exit."""

    def __init__(self, tmp_path: Path):
        self.dir = tmp_path / "imports"
        self.dir.mkdir(exist_ok=True)
        self.n = 0

    def file(self, rows, *, encoding="utf-8", xlsx=False) -> Path:
        self.n += 1
        if xlsx:
            return write_xlsx(self.dir / f"f{self.n}.xlsx", rows)
        return write_csv(self.dir / f"f{self.n}.csv", rows, encoding)

    def run(self, resource, rows, *, dry_run=False, **kw) -> Result:
        path = rows if isinstance(rows, Path) else self.file(rows, **kw)
        out, err = io.StringIO(), io.StringIO()
        args = [resource, str(path)] + (["--dry-run"] if dry_run else [])
        try:
            call_command("import_data", *args, stdout=out, stderr=err)
        except CommandError as exc:
            return Result(False, out.getvalue() + err.getvalue() + str(exc))
        return Result(True, out.getvalue() + err.getvalue())

    def ok(self, resource, rows, **kw) -> str:
        result = self.run(resource, rows, **kw)
        assert result.ok, result.output
        return result.output

    def fails(self, resource, rows, **kw) -> str:
        result = self.run(resource, rows, **kw)
        assert not result.ok, result.output
        return result.output


def api_for(token: str | None) -> APIClient:
    api = APIClient()
    if token:
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def create_client(name: str, role: str, institution: str | None = None) -> str:
    out = io.StringIO()
    args = [name, "--role", role] + (["--institution", institution] if institution else [])
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue().strip().splitlines()[-1].strip()


class World:
    """Regions, institutions, the Jiangsu policy, the people above and a grantor balance, all imported from
    files; API clients made by the command."""

    def __init__(self, importer: Importer, *, grantor_balance="1000.00"):
        self.imp = importer
        importer.ok("regions", REGIONS)
        importer.ok("institutions", INSTITUTIONS)
        importer.ok("policies", POLICIES)
        rows = [PERSON_HEADER] + [[i, n, t, "正常参保", r, "", no, ""] for i, n, t, r, no in PEOPLE.values()]
        importer.ok("persons", rows)
        self.people = {key: P(v[0], v[1], v[4]) for key, v in PEOPLE.items()}
        self.credits = 0
        if grantor_balance:
            self.credit("grantor", grantor_balance)
        self.hospital = api_for(create_client("hospital", "institution", "H001"))
        self.hospital_b = api_for(create_client("nanjing-hospital", "institution", "H003"))
        self.pharmacy = api_for(create_client("pharmacy", "institution", "P001"))
        self.undesignated = api_for(create_client("clinic", "institution", "H002"))
        self.channel = api_for(create_client("app", "channel"))
        self.staff = api_for(create_client("internal", "staff"))
        self.anonymous = api_for(None)

    def __getattr__(self, key):
        people = self.__dict__.get("people", {})
        if key in people:
            return people[key]
        raise AttributeError(key)

    def credit(self, who: str, amount: str, kind: str = "划入", date: str = "2025-01-01") -> str:
        self.credits += 1
        return self.imp.ok(
            "credits",
            [["流水号", "身份证号", "金额", "类型", "入账日期"], [f"W{self.credits:05d}", self.people[who].id_number,
                                                           amount, kind, date]],
        )

    def bind(self, grantor="grantor", member="child", kinship="child", **extra):
        body = {
            "grantor_id_number": self.people[grantor].id_number,
            "member_id_number": self.people[member].id_number,
            "kinship": kinship,
            "promise_accepted": True,
            **extra,
        }
        return self.channel.post("/api/v1/authorizations", body, format="json")

    def settle(self, api=None, *, patient="child", external_id="E1", total="100.00", fund="40.00", **extra):
        body = {
            "external_id": external_id,
            "patient_id_number": self.people[patient].id_number,
            "credential": {"type": "e_voucher", "number": self.people[patient].id_number},
            "category": "medical",
            "channel": "direct",
            "total_amount": total,
            "fund_paid": fund,
            **extra,
        }
        return (api or self.hospital).post("/api/v1/settlements", body, format="json")


@pytest.fixture
def imp(db, tmp_path):
    return Importer(tmp_path)


@pytest.fixture
def world(db, imp):
    return World(imp)
