"""`manage.py import_data` against imports.md, one test per rule (run on SQLite and on PostgreSQL)."""

import datetime
from decimal import Decimal

import pytest

from accounts.imports import rows as R
from accounts.imports.reading import MSG_ENCODING, MSG_NOT_XLSX
from accounts.imports.resources import (
    MSG_BELOW_ZERO,
    MSG_CREDIT_POSITIVE,
    MSG_NO_ACCOUNT,
    MSG_PERSON_UNKNOWN,
)
from accounts.models import CrossRegionFiling, LedgerEntry, Person, PersonalAccount, Region
from bindings.family_links import MSG_PROOF_FOR_ADULT, MSG_PROOF_FOR_CHILD
from bindings.models import AuditAction, AuthorizationStatus, Channel, FamilyLink, Policy
from settlements.models import Institution
from tests import factories
from tests.imports.conftest import PERSON_HEADER, person_row

pytestmark = pytest.mark.django_db


def valid_id(**kwargs):
    return factories.id_number(region_code="320502", **kwargs)


def wrong_check_character(id_number: str) -> str:
    return id_number[:17] + ("0" if id_number[17] != "0" else "1")


# --- regions ------------------------------------------------------------------------------------------


def test_regions_happy_path_and_reimport_unchanged(importer):
    rows = [["区划代码", "名称"], ["320000", "江苏省"], ["320500", " 苏州市 "]]
    out = importer.ok("regions", rows)
    assert "新增 2、更新 0、未变 0、错误 0" in out
    assert Region.objects.get(code="320500").name == "苏州市"  # stripped
    assert "新增 0、更新 0、未变 2、错误 0" in importer.ok("regions", rows)
    rows[2][1] = "苏州"
    assert "新增 0、更新 1、未变 1、错误 0" in importer.ok("regions", rows)


def test_regions_english_aliases_and_extra_columns_ignored(importer):
    out = importer.ok("regions", [["Code", "备注", "NAME"], ["320100", "x", "南京市"]])
    assert "新增 1" in out
    assert Region.objects.get(code="320100").name == "南京市"


def test_regions_bad_code_reported_with_line_and_column(importer):
    out = importer.fails("regions", [["区划代码", "名称"], ["320500", "苏州市"], ["32050", "坏"], ["032000", "坏"]])
    assert f"第3行 列「区划代码」：{R.MSG_REGION_CODE}" in out
    assert f"第4行 列「区划代码」：{R.MSG_REGION_CODE}" in out
    assert "错误 2" in out
    assert not Region.objects.exists()


def test_full_width_digits_are_reported_row_errors_never_a_crash(importer, regions):
    """\\d matches full-width digits (int() and Decimal() read them too), and the database's shape checks would then
    refuse the row with a traceback: every digit rule of the files is ASCII."""
    out = importer.fails("regions", [["区划代码", "名称"], ["32０７00", "坏"]])
    assert f"第2行 列「区划代码」：{R.MSG_REGION_CODE}" in out
    idn = factories.id_number()
    out = importer.fails("persons", [PERSON_HEADER, person_row("３" + idn[1:])])
    assert f"第2行 列「身份证号」：{R.MSG_ID_FORMAT}" in out
    person = factories.person()
    out = importer.fails(
        "credits",
        [CREDIT_HEADER, ["F1", person.id_number, "１００.００", "划入", "2025-01-01"],
         ["F2", person.id_number, "1.00", "划入", "２０２５-01-01"]],
    )  # fmt: skip
    assert f"第2行 列「金额」：{R.MSG_MONEY.format(value='１００.００')}" in out
    assert f"第3行 列「入账日期」：{R.MSG_DATE.format(value='２０２５-01-01')}" in out
    assert not Region.objects.filter(name="坏").exists() and not LedgerEntry.objects.filter(reference="F1").exists()


# --- institutions -------------------------------------------------------------------------------------


def test_institutions_happy_path_and_unknown_region(importer, regions):
    header = ["机构编码", "机构名称", "机构类型", "区划代码", "定点"]
    out = importer.ok("institutions", [header, ["H001", "苏州市立医院", "医疗机构", "320500", "是"],
                                       ["P001", "老百姓大药房", "零售药店", "320500", "否"]])  # fmt: skip
    assert "新增 2" in out
    assert Institution.objects.get(code="P001").kind == "pharmacy"
    assert Institution.objects.get(code="P001").designated is False
    out = importer.fails("institutions", [header, ["H002", "某医院", "诊所", "990000", "也许"]])
    assert "第2行 列「机构类型」" in out
    assert "第2行 列「区划代码」：" + R.MSG_REGION_UNKNOWN.format(code="990000") in out
    assert "第2行 列「定点」" in out
    assert "错误 1" in out  # one bad row, three bad cells


# --- policies -----------------------------------------------------------------------------------------

POLICY_HEADER = ["区划代码", "生效日期", "共济亲属范围", "地域范围", "配偶需确认", "限一个共济关系"]


def test_policies_happy_path_matched_on_region_and_date(importer, regions):
    rows = [POLICY_HEADER, ["320000", "2025-01-01", "配偶、父母,子女", "省内", "是", "否"]]
    assert "新增 1" in importer.ok("policies", rows)
    policy = Policy.objects.get()
    assert policy.kinships == ["spouse", "parent", "child"]
    assert (policy.scope, policy.spouse_confirmation, policy.single_relationship) == ("province", True, False)
    assert "未变 1" in importer.ok("policies", rows)
    rows[1][2] = "配偶、父母、子女、兄弟姐妹、祖父母、外祖父母、孙子女、外孙子女"
    rows[1][3] = "全国"
    assert "更新 1" in importer.ok("policies", rows)
    policy.refresh_from_db()
    assert len(policy.kinships) == 8 and policy.scope == "national"


def test_a_province_not_in_the_regions_table_is_added_from_the_national_list(importer, regions):
    """imports.md: a policy's region is "a province code such as 320000, or a pooling region". The regions file may
    list only pooling regions: a GB/T 2260 province is added with its standard name; anything else must be imported."""
    assert not Region.objects.filter(code__in=["330000", "110000"]).exists()
    rows = [POLICY_HEADER, ["330000", "2025-01-01", "配偶、父母、子女", "省内", "是", "是"]]
    out = importer.ok("policies", rows, dry_run=True)  # rolled back: the report says what would be added
    assert "区划 330000（浙江省）不在区划表中，将按国家标准 GB/T 2260 补建省级区划" in out
    assert not Region.objects.filter(code="330000").exists()
    out = importer.ok("policies", rows)
    assert "新增 1" in out and "区划 330000（浙江省）不在区划表中，已按国家标准 GB/T 2260 补建省级区划" in out
    assert Region.objects.get(code="330000").name == "浙江省"
    assert Policy.objects.get(region_id="330000").scope == "province"
    person = factories.person()
    out = importer.ok("filings", [["身份证号", "就医地", "开始日期"], [person.id_number, "110000", "2025-01-01"]])
    assert "新增 1" in out and Region.objects.get(code="110000").name == "北京市"
    out = importer.fails("policies", [POLICY_HEADER, ["330100", "2025-01-01", "配偶", "省内", "是", "是"]])
    assert "第2行 列「区划代码」：" + R.MSG_REGION_UNKNOWN.format(code="330100") in out  # a pooling region: import it


def test_policies_bad_kinship_scope_and_date(importer, regions):
    out = importer.fails("policies", [POLICY_HEADER, ["320000", "2025-02-30", "配偶、岳父母", "本市", "是", "是"]])
    assert "第2行 列「生效日期」" in out
    assert "第2行 列「共济亲属范围」：「岳父母」不是有效取值" in out
    assert "第2行 列「地域范围」" in out
    assert not Policy.objects.exists()


# --- persons ------------------------------------------------------------------------------------------


def test_persons_happy_path_accounts_and_person_numbers(importer, regions):
    employee, resident = valid_id(), valid_id()
    rows = [PERSON_HEADER, person_row(employee, phone="13800000000"), person_row(resident, itype="390", name="李秀英")]
    out = importer.ok("persons", rows)
    assert "新增 2、更新 0、未变 0、错误 0" in out
    first = Person.objects.get(id_number=employee)
    assert first.account.balance == Decimal("0.00")
    assert first.person_no.startswith("320500") and first.category == "employed" and first.phone == "13800000000"
    assert not PersonalAccount.objects.filter(person__id_number=resident).exists()
    assert str(first.birth_date) == f"{employee[6:10]}-{employee[10:12]}-{employee[12:14]}"


def test_persons_known_updated_and_reimport_unchanged(importer, regions):
    person = factories.person(name="张伟", insurance_type="390")
    rows = [PERSON_HEADER, person_row(person.id_number, name="张伟", itype="310", person_no=person.person_no)]
    assert "新增 0、更新 1、未变 0、错误 0" in importer.ok("persons", rows)
    person.refresh_from_db()
    assert person.insurance_type == "310" and person.account.balance == 0  # account on becoming employee
    assert "新增 0、更新 0、未变 1、错误 0" in importer.ok("persons", rows)


def test_persons_english_headers_and_optional_columns_absent(importer, regions):
    idn = valid_id()
    out = importer.ok(
        "persons",
        [["ID_NUMBER", "name", "insurance_type", "insurance_status", "region", "无关列"],
         [idn, "王芳", "310", "暂停参保", "320100", "x"]],
    )  # fmt: skip
    assert "新增 1" in out
    assert Person.objects.get(id_number=idn).insurance_status == "suspended"


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("身份证号", "32050219900101", R.MSG_ID_FORMAT),
        ("身份证号", "320502199002300010", R.MSG_ID_BIRTH),
        ("身份证号", "CHECKSUM", R.MSG_ID_CHECKSUM),
        ("身份证号", "", R.MSG_REQUIRED),
        ("姓名", "", R.MSG_REQUIRED),
        ("险种", "商业保险", "「商业保险」不是有效取值"),
        ("参保状态", "正常", "「正常」不是有效取值"),
        ("参保地", "999999", R.MSG_REGION_UNKNOWN.format(code="999999")),
        ("参保地", "苏州", R.MSG_REGION_CODE),
        ("人员类别", "学生", "「学生」不是有效取值"),
        ("姓名", "=cmd|' /C calc'!A0", R.MSG_FORMULA),
        ("手机号", "@SUM(A1)", R.MSG_FORMULA),
        ("姓名", "+A1", R.MSG_FORMULA),
    ],
)
def test_persons_bad_cell_reported_by_line_column_and_reason(importer, regions, column, value, message):
    row = person_row()
    if value == "CHECKSUM":
        value = wrong_check_character(row[0])
    row[PERSON_HEADER.index(column)] = value
    out = importer.fails("persons", [PERSON_HEADER, person_row(), row])
    assert f"第3行 列「{column}」：{message}" in out
    assert "错误 1" in out
    assert not Person.objects.exists()


def test_person_numbers_with_leading_zeros_are_distinct(importer, regions):
    ids = [factories.id_number(), factories.id_number(), factories.id_number()]
    rows = [PERSON_HEADER, person_row(ids[0], person_no="007"), person_row(ids[1], person_no="7"),
            person_row(ids[2], person_no="0007")]  # fmt: skip
    assert "新增 3" in importer.ok("persons", rows)
    assert sorted(Person.objects.values_list("person_no", flat=True)) == ["0007", "007", "7"]


def test_persons_duplicate_id_number_in_file(importer, regions):
    idn = valid_id()
    out = importer.fails("persons", [PERSON_HEADER, person_row(idn), person_row(idn)])
    assert f"第3行 列「身份证号」：{R.MSG_DUPLICATE_IN_FILE}" in out


def test_all_or_nothing_one_bad_row_writes_nothing(importer, regions):
    rows = [PERSON_HEADER] + [person_row() for _ in range(30)]
    rows[25][4] = "888888"
    out = importer.fails("persons", rows)
    assert "第26行 列「参保地」" in out
    assert "未写入任何数据" in out
    assert not Person.objects.exists() and not PersonalAccount.objects.exists()


def test_dry_run_writes_nothing(importer, regions):
    out = importer.ok("persons", [PERSON_HEADER, person_row(), person_row()], dry_run=True)
    assert "试运行" in out and "新增 2" in out
    assert not Person.objects.exists()


def test_missing_required_column_is_named(importer, regions):
    header = [h for h in PERSON_HEADER if h != "参保状态"]
    out = importer.fails("persons", [header, person_row()[:3] + person_row()[4:]])
    assert "缺少必需的列" in out and "「参保状态」" in out


def test_blank_lines_skipped_and_line_numbers_kept(importer, regions):
    rows = [PERSON_HEADER, person_row(), ["", "", ""], person_row(name="")]
    out = importer.fails("persons", rows)
    assert "第4行 列「姓名」：不能为空" in out


# --- encodings and formats ----------------------------------------------------------------------------


def test_gb18030_csv_accepted(importer, regions):
    out = importer.ok("persons", [PERSON_HEADER, person_row(name="欧阳娜娜")], encoding="gb18030")
    assert "新增 1" in out
    assert Person.objects.get().name == "欧阳娜娜"


def test_utf8_bom_csv_accepted(importer, regions):
    out = importer.ok("persons", [PERSON_HEADER, person_row()], encoding="utf-8-sig")
    assert "新增 1" in out


def test_latin1_garbage_refused_clearly(importer, regions):
    path = importer.tmp_path / "latin1.csv"
    path.write_bytes("Nom;Prénom;Société\nJosé;Müller;Crème brûlée à côté\n".encode("latin-1"))
    out = importer.fails("persons", path)
    assert MSG_ENCODING in out or "缺少必需的列" in out
    random_bytes = importer.tmp_path / "garbage.csv"
    random_bytes.write_bytes(bytes(range(128, 256)) * 4)
    assert MSG_ENCODING in importer.fails("persons", random_bytes)


def test_xlsx_accepted(importer, regions):
    idn = valid_id()
    out = importer.ok("persons", [PERSON_HEADER, person_row(idn)], suffix=".xlsx")
    assert "新增 1" in out
    assert Person.objects.filter(id_number=idn).exists()


def test_xlsx_formula_cell_refused(importer, regions):
    row = person_row()
    row[1] = '=HYPERLINK("http://evil.example","点我")'
    out = importer.fails("persons", [PERSON_HEADER, row], suffix=".xlsx")
    assert f"第2行 列「姓名」：{R.MSG_FORMULA}" in out


def test_xlsx_that_is_not_one_refused_clearly(importer, regions):
    path = importer.tmp_path / "roster.xlsx"
    path.write_text("身份证号,姓名\n", encoding="utf-8")
    out = importer.fails("persons", path)
    assert MSG_NOT_XLSX in out
    assert "Traceback" not in out


def test_empty_file_refused(importer):
    path = importer.tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert "文件为空" in importer.fails("regions", path)


# --- R13 through the roster ---------------------------------------------------------------------------


def test_r13_roster_import_terminates_authorizations(importer, jiangsu_policy):
    grantor = factories.grantor()
    member = factories.person(name="王小明")
    authorization = factories.authorization(grantor, member, "child")
    assert authorization.status == AuthorizationStatus.ACTIVE
    rows = [
        PERSON_HEADER,
        person_row(member.id_number, name="王小明", status="暂停参保", category="", person_no=member.person_no),
    ]
    out = importer.ok("persons", rows)
    assert "更新 1" in out and "共济授权 1 条" in out
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.TERMINATED
    event = authorization.events.get(action=AuditAction.TERMINATE)
    assert event.channel == Channel.IMPORT == "import"


def test_r13_roster_moving_grantor_ends_relationship(importer, jiangsu_policy):
    factories.region("320100", "南京市")
    grantor = factories.grantor()
    member = factories.person(name="王小明")
    authorization = factories.authorization(grantor, member, "child")
    importer.ok("persons", [PERSON_HEADER, person_row(grantor.id_number, name="王建国", region="320100", category="")])
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.TERMINATED


def test_r13_dry_run_and_failed_import_end_nothing(importer, jiangsu_policy):
    grantor = factories.grantor()
    member = factories.person(name="王小明")
    authorization = factories.authorization(grantor, member, "child")
    row = person_row(member.id_number, name="王小明", status="终止参保", category="")
    assert "将自动解除共济授权 1 条" in importer.ok("persons", [PERSON_HEADER, row], dry_run=True)
    importer.fails("persons", [PERSON_HEADER, row, person_row(region="000000")])
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.ACTIVE


# --- credits ------------------------------------------------------------------------------------------

CREDIT_HEADER = ["流水号", "身份证号", "金额", "类型", "入账日期"]


def test_credits_happy_path_and_reference_idempotency(importer, regions):
    person = factories.person()
    rows = [
        CREDIT_HEADER,
        ["R0001", person.id_number, "100.00", "期初余额", "2025-01-01"],
        ["R0002", person.id_number, "50.5", "划入", "2025-02-01"],
        ["R0003", person.id_number, "-12.50", "调整", "2025-02-02"],
    ]
    assert "新增 3、更新 0、未变 0、错误 0" in importer.ok("credits", rows)
    person.account.refresh_from_db()
    assert person.account.balance == Decimal("138.00")
    entries = list(LedgerEntry.objects.order_by("id").values_list("reference", "amount", "balance_after"))
    assert entries == [("R0001", Decimal("100.00"), Decimal("100.00")), ("R0002", Decimal("50.50"), Decimal("150.50")),
                       ("R0003", Decimal("-12.50"), Decimal("138.00"))]  # fmt: skip
    assert "新增 0、更新 0、未变 3、错误 0" in importer.ok("credits", rows)
    assert LedgerEntry.objects.count() == 3
    rows.append(["R0004", person.id_number, "1.00", "划入", "2025-03-01"])
    assert "新增 1、更新 0、未变 3" in importer.ok("credits", rows)


def test_credits_reference_already_applied_is_unchanged_even_with_other_content(importer, regions):
    """imports.md: a reference already applied is reported unchanged, never applied twice; the clerk is told."""
    person = factories.person()
    importer.ok("credits", [CREDIT_HEADER, ["R1", person.id_number, "10.00", "划入", "2025-01-01"]])
    out = importer.ok(
        "credits",
        [CREDIT_HEADER, ["R1", person.id_number, "20.00", "划入", "2025-01-03"],
         ["R2", person.id_number, "5.00", "划入", "2025-01-04"]],
    )  # fmt: skip
    assert "新增 1、更新 0、未变 1、错误 0" in out
    note = "第2行 列「流水号」：流水号「R1」已入账（划入 10.00，2025-01-01），本行（划入 20.00，2025-01-03）未再入账"
    assert note in out
    person.account.refresh_from_db()
    assert person.account.balance == Decimal("15.00")
    assert list(LedgerEntry.objects.order_by("id").values_list("reference", "amount")) == [
        ("R1", Decimal("10.00")),
        ("R2", Decimal("5.00")),
    ]


def test_credits_zero_amount_moves_nothing_and_is_counted_unchanged(importer, regions):
    """An opening balance of 0.00 (an account already starts at 0.00) or a month with no allocation: no ledger
    entry (the ledger holds no zero entries), counted unchanged, and the report says so."""
    person = factories.person()
    rows = [CREDIT_HEADER, ["Z1", person.id_number, "0.00", "期初余额", "2025-01-01"],
            ["Z2", person.id_number, "0", "划入", "2025-02-01"], ["Z3", person.id_number, "8.00", "划入", "2025-03-01"]]
    out = importer.ok("credits", rows)
    assert "新增 1、更新 0、未变 2、错误 0" in out
    assert "第2行 列「金额」：金额为 0，不记流水，计为未变" in out and "第3行 列「金额」" in out
    assert list(LedgerEntry.objects.values_list("reference", "amount")) == [("Z3", Decimal("8.00"))]
    assert "新增 0、更新 0、未变 3、错误 0" in importer.ok("credits", rows)


def test_credits_adjustment_never_below_zero(importer, regions):
    person = factories.person(balance="10.00")
    out = importer.fails(
        "credits",
        [CREDIT_HEADER, ["A1", person.id_number, "-6.00", "调整", "2025-01-01"],
         ["A2", person.id_number, "-6.00", "调整", "2025-01-02"]],
    )  # fmt: skip
    assert f"第3行 列「金额」：{MSG_BELOW_ZERO.format(balance='4.00')}" in out
    person.account.refresh_from_db()
    assert person.account.balance == Decimal("10.00")
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "kind", "column", "message"),
    [
        ("-5.00", "划入", "金额", MSG_CREDIT_POSITIVE),
        ("1.005", "划入", "金额", R.MSG_MONEY.format(value="1.005")),
        ("1e2", "划入", "金额", R.MSG_MONEY.format(value="1e2")),  # plain decimal notation only
        ("abc", "划入", "金额", R.MSG_MONEY.format(value="abc")),
        ("5.00", "奖励", "类型", "「奖励」不是有效取值"),
    ],
)
def test_credits_bad_amounts_and_kinds(importer, regions, amount, kind, column, message):
    person = factories.person()
    out = importer.fails("credits", [CREDIT_HEADER, ["X1", person.id_number, amount, kind, "2025-01-01"]])
    assert f"第2行 列「{column}」：{message}" in out


def test_credits_for_resident_or_unknown_person_are_errors(importer, regions):
    resident = factories.resident()
    out = importer.fails(
        "credits",
        [CREDIT_HEADER, ["C1", resident.id_number, "5.00", "划入", "2025-01-01"],
         ["C2", valid_id(), "5.00", "划入", "2025-01-01"], ["C2", valid_id(), "5.00", "划入", "2025/01/01"]],
    )  # fmt: skip
    assert f"第2行 列「身份证号」：{MSG_NO_ACCOUNT}" in out
    assert f"第3行 列「身份证号」：{MSG_PERSON_UNKNOWN}" in out
    assert f"第4行 列「流水号」：{R.MSG_DUPLICATE_IN_FILE}" in out
    assert "第4行 列「入账日期」" in out


def test_credits_formula_in_reference_refused(importer, regions):
    person = factories.person()
    out = importer.fails("credits", [CREDIT_HEADER, ["=1+1", person.id_number, "-1.00", "调整", "2025-01-01"]])
    assert f"第2行 列「流水号」：{R.MSG_FORMULA}" in out
    assert "列「金额」" not in out  # a negative number is not a formula


# --- filings ------------------------------------------------------------------------------------------


def test_filings_happy_path_and_end_before_start(importer, regions):
    person = factories.person()
    header = ["身份证号", "就医地", "开始日期", "结束日期"]
    rows = [header, [person.id_number, "360100", "2025-01-01", ""]]
    assert "新增 1" in importer.ok("filings", rows)
    assert CrossRegionFiling.objects.get().end_date is None
    rows[1][3] = "2025-12-31"
    assert "更新 1" in importer.ok("filings", rows)
    assert "未变 1" in importer.ok("filings", rows)
    out = importer.fails("filings", [header, [person.id_number, "360100", "2025-05-01", "2025-04-01"]])
    assert "第2行 列「结束日期」：结束日期不能早于开始日期" in out


# --- family links -------------------------------------------------------------------------------------

LINK_HEADER = ["持有人身份证号", "亲属身份证号", "关系", "核验方式"]


def _years_ago(years: int) -> datetime.date:
    today = datetime.date.today()
    return today.replace(year=today.year - years, day=min(today.day, 28)) - datetime.timedelta(days=30)


def test_family_links_proof_fits_age(importer, regions):
    owner = factories.person(name="李强")
    child = factories.resident(name="李小宝", birth=_years_ago(8))
    adult = factories.person(name="李大爷", birth=_years_ago(70))
    ok = [LINK_HEADER, [owner.id_number, child.id_number, "子女", "出生证明"],
          [owner.id_number, adult.id_number, "父母", "刷脸"]]  # fmt: skip
    assert "新增 2" in importer.ok("family_links", ok)
    assert FamilyLink.objects.count() == 2
    assert "未变 2" in importer.ok("family_links", ok)
    bad = [LINK_HEADER, [owner.id_number, child.id_number, "子女", "刷脸"],
           [owner.id_number, adult.id_number, "父母", "出生证明"]]  # fmt: skip
    out = importer.fails("family_links", bad)
    assert f"第2行 列「核验方式」：{MSG_PROOF_FOR_CHILD.format(age=8)}" in out
    assert f"第3行 列「核验方式」：{MSG_PROOF_FOR_ADULT.format(age=70)}" in out


def test_family_links_unknown_person_and_self(importer, regions):
    owner = factories.person()
    out = importer.fails(
        "family_links",
        [LINK_HEADER, [owner.id_number, valid_id(), "配偶", "户口簿"],
         [owner.id_number, owner.id_number, "配偶", "户口簿"]],
    )  # fmt: skip
    assert f"第2行 列「亲属身份证号」：{MSG_PERSON_UNKNOWN}" in out
    assert "第3行 列「亲属身份证号」：持有人与亲属不能是同一人" in out
