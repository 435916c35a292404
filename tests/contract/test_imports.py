"""imports.md, sentence by sentence, through `import_data RESOURCE FILE [--dry-run]` on real files; effects are
observed through the API (or a second import), never through the models."""

import datetime
import re

import pytest

from tests.contract.conftest import INSTITUTIONS, PERSON_HEADER, POLICIES, REGIONS, api_for, create_client, make_id

CREDIT_HEADER = ["流水号", "身份证号", "金额", "类型", "入账日期"]
G = make_id("19700101", "011")
C = make_id("20000505", "022")


def counts(output):
    m = re.search(r"新增\s*(\d+)\D+更新\s*(\d+)\D+未变\s*(\d+)\D+错误\s*(\d+)", output)
    assert m, output
    return tuple(int(x) for x in m.groups())


@pytest.fixture
def staff(db):
    return api_for(create_client("internal", "staff"))


@pytest.fixture
def base(imp):
    imp.ok("regions", REGIONS)
    imp.ok("institutions", INSTITUTIONS)
    imp.ok("policies", POLICIES)


def person(staff, no):
    r = staff.get(f"/api/v1/persons/{no}")
    return r.json() if r.status_code == 200 else None


def roster(*rows):
    return [PERSON_HEADER, *rows]


# --- common rules -----------------------------------------------------------------------------------------------


def test_report_counts_and_reimport_unchanged(imp):
    out = imp.ok("regions", REGIONS)
    assert counts(out) == (5, 0, 0, 0)
    out = imp.ok("regions", REGIONS)
    assert counts(out) == (0, 0, 5, 0)
    out = imp.ok("regions", [["区划代码", "名称"], ["320500", "苏州"], ["320600", "南通市"], ["320100", "南京市"]])
    assert counts(out) == (1, 1, 1, 0)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings(imp, staff, encoding):
    imp.ok("regions", REGIONS, encoding=encoding)
    out = imp.ok("persons", roster([G, "张三", "职工基本医疗保险", "正常参保", "320500", "在职", "G1", ""]),
                 encoding=encoding)  # fmt: skip
    assert counts(out)[0] == 1
    assert person(staff, "G1")["name"] == "张三"


def test_xlsx(imp, staff):
    imp.ok("regions", REGIONS, xlsx=True)
    imp.ok("persons", roster([G, "张三", "310", "正常参保", 320500, "", "G1", ""]), xlsx=True)
    assert person(staff, "G1")["region"] == "320500"


def test_english_aliases_and_extra_columns(imp, staff):
    imp.ok("regions", [["code", "name", "备注"], ["320000", "江苏省", "x"], ["320500", "苏州市", "y"]])
    imp.ok("persons", [["id_number", "name", "insurance_type", "insurance_status", "region", "category", "person_no",
                        "phone", "unused"],
                       [G, "张三", "310", "正常参保", "320500", "退休", "G1", "13800000000", "z"]])  # fmt: skip
    assert person(staff, "G1")["insurance_type"] == "employee"


def test_missing_required_column_is_named(imp):
    out = imp.fails("regions", [["区划代码"], ["320000"]])
    assert "名称" in out
    out = imp.fails("persons", [["身份证号", "姓名", "险种", "参保地"], [G, "张三", "310", "320500"]])
    assert "参保状态" in out
    assert counts(out) == (0, 0, 0, 1) and out.rstrip().endswith("错误 1")  # "A report ends with counts"


def test_values_stripped(imp, staff):
    imp.ok("regions", [["区划代码 ", " 名称"], [" 320000 ", " 江苏省 "], ["320500", "苏州市"]])
    imp.ok("persons", roster([f" {G} ", " 张三 ", " 310 ", " 正常参保 ", " 320500 ", "", " G1 ", ""]))
    assert person(staff, "G1")["name"] == "张三"
    assert counts(imp.ok("regions", [["区划代码", "名称"], ["320000", "江苏省"]])) == (0, 0, 1, 0)


def test_all_or_nothing_with_line_numbers_and_non_zero_exit(imp, staff):
    imp.ok("regions", REGIONS)
    bad_checksum = G[:17] + ("0" if G[17] != "0" else "1")
    rows = roster(
        [G, "张三", "310", "正常参保", "320500", "", "G1", ""],
        [bad_checksum, "李四", "310", "正常参保", "320500", "", "L1", ""],
        [C, "张小明", "390", "正常参保", "999999", "", "C1", ""],
        [make_id("19900101", "123"), "王五", "医保", "正常参保", "320500", "", "W1", ""],
        [make_id("19900102", "123"), "赵六", "390", "正常参保", "320500", "", "Z1", ""],
    )
    out = imp.fails("persons", rows)
    assert "第3行" in out and "第4行" in out and "第5行" in out
    assert "第2行" not in out and "第6行" not in out
    assert "身份证号" in out and "参保地" in out and "险种" in out  # the column is named
    assert counts(out)[3] == 3
    assert person(staff, "G1") is None and person(staff, "Z1") is None


def test_bad_date_reported(imp, base):
    out = imp.fails("policies", [POLICIES[0], ["320000", "2025-02-30", "配偶", "省内", "是", "是"],
                                 ["320000", "2025/03/01", "配偶", "省内", "是", "是"]])  # fmt: skip
    assert "第2行" in out and "第3行" in out and "生效日期" in out


def test_dry_run_writes_nothing(imp, staff):
    imp.ok("regions", REGIONS)
    out = imp.ok("persons", roster([G, "张三", "310", "正常参保", "320500", "", "G1", ""]), dry_run=True)
    assert counts(out) == (1, 0, 0, 0)
    assert person(staff, "G1") is None
    out = imp.ok("regions", [["区划代码", "名称"], ["320600", "南通市"]], dry_run=True)
    assert counts(imp.ok("regions", [["区划代码", "名称"], ["320600", "南通市"]])) == (1, 0, 0, 0)


def test_dry_run_with_errors_exits_non_zero(imp):
    imp.fails("regions", [["区划代码", "名称"], ["abc", "x"]], dry_run=True)


def test_unknown_resource_or_missing_file_fails(imp, tmp_path):
    assert not imp.run("regions", tmp_path / "nope.csv").ok


# --- regions -----------------------------------------------------------------------------------------------------


def test_region_code_six_digits(imp):
    out = imp.fails("regions", [["区划代码", "名称"], ["32050", "x"], ["3205001", "y"]])
    assert "第2行" in out and "第3行" in out


def test_province_code_policy_applies_to_pooling_region(world):
    """A code ending in 0000 is a province: the 320000 policy governs 320500 (no 320500 policy)."""
    assert world.bind(member="sibling", kinship="sibling").status_code == 201


# --- institutions ------------------------------------------------------------------------------------------------


def test_institutions_yes_no_and_kinds(imp, base):
    assert counts(imp.ok("institutions", INSTITUTIONS)) == (0, 0, 5, 0)
    out = imp.fails("institutions", [INSTITUTIONS[0], ["H9", "x", "诊所", "320500", "是"],
                                     ["H8", "y", "医疗机构", "320500", "Y"],
                                     ["H7", "z", "医疗机构", "999999", "否"]])  # fmt: skip
    assert "第2行" in out and "第3行" in out and "第4行" in out


def test_institution_undesignated_then_designated(world, imp):
    world.bind()
    assert world.settle(world.undesignated).status_code == 422
    out = imp.ok("institutions", [INSTITUTIONS[0], ["H002", "苏州某诊所", "医疗机构", "320500", "是"]])
    assert counts(out) == (0, 1, 0, 0)
    assert world.settle(world.undesignated).status_code == 201


# --- policies ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kinships", ["配偶、父母、子女", "配偶,父母,子女", "配偶，父母，子女", " 配偶 、 父母、子女 "])
def test_policy_kinship_separators(world, imp, kinships):
    imp.ok("policies", [POLICIES[0], ["320000", "2025-01-01", kinships, "省内", "否", "是"]])
    r = world.bind(member="mother", kinship="parent")
    assert r.status_code == 201, r.content
    r = world.bind(member="sibling", kinship="sibling")
    assert "RELATION_NOT_ALLOWED" in [x["code"] for x in r.json()["reasons"]]


def test_policy_unknown_kinship_or_scope_fails(imp, base):
    out = imp.fails("policies", [POLICIES[0], ["320000", "2025-01-01", "配偶、表兄弟", "省内", "否", "是"],
                                 ["320000", "2025-02-01", "配偶", "全省", "否", "是"]])  # fmt: skip
    assert "第2行" in out and "第3行" in out


def test_policy_reimport_unchanged_and_update(imp, base):
    assert counts(imp.ok("policies", POLICIES)) == (0, 0, 1, 0)
    narrowed = [POLICIES[0], ["320000", "2024-01-01", "配偶", "省内", "是", "是"]]
    assert counts(imp.ok("policies", narrowed)) == (0, 1, 0, 0)


# --- persons -----------------------------------------------------------------------------------------------------


def test_persons_matched_on_id_number_update(imp, staff):
    imp.ok("regions", REGIONS)
    imp.ok("persons", roster([G, "张三", "310", "正常参保", "320500", "", "G1", ""]))
    out = imp.ok("persons", roster([G, "张叁", "310", "正常参保", "320100", "", "", ""]))
    assert counts(out) == (0, 1, 0, 0)
    body = person(staff, "G1")
    assert body["name"] == "张叁" and body["region"] == "320100"


def test_person_no_made_if_blank(imp, staff):
    imp.ok("regions", REGIONS)
    imp.ok("persons", roster([G, "张三", "310", "正常参保", "320500", "", "", ""]))
    r = staff.post("/api/v1/persons/lookup", {"id_number": G}, format="json")
    assert r.status_code == 200 and r.json()["person_no"]
    no = r.json()["person_no"]
    assert G not in no  # the made-up number is not the ID number (it travels in URLs)
    assert person(staff, no)["name"] == "张三"
    assert counts(imp.ok("persons", roster([G, "张三", "310", "正常参保", "320500", "", "", ""]))) == (0, 0, 1, 0)


@pytest.mark.parametrize(
    "itype,expected", [("职工基本医疗保险", "employee"), ("310", "employee"), ("城乡居民基本医疗保险", "resident"),
                       ("390", "resident")],
)  # fmt: skip
def test_insurance_type_name_or_code(imp, staff, itype, expected):
    imp.ok("regions", REGIONS)
    imp.ok("persons", roster([G, "张三", itype, "正常参保", "320500", "", "G1", ""]))
    body = person(staff, "G1")
    assert body["insurance_type"] == expected
    if expected == "employee":
        assert body["has_account"] is True and body["balance"] == "0.00"
    else:
        assert body["has_account"] is False and body["balance"] is None


@pytest.mark.parametrize(
    "status,expected",
    [("正常参保", "normal"), ("暂停参保", "suspended"), ("终止参保", "terminated"), ("未参保", "uninsured")],
)
def test_insurance_status_values(imp, staff, status, expected):
    imp.ok("regions", REGIONS)
    imp.ok("persons", roster([G, "张三", "310", status, "320500", "灵活就业", "G1", ""]))
    assert person(staff, "G1")["insurance_status"] == expected


def test_resident_becoming_employee_gets_account(imp, staff):
    imp.ok("regions", REGIONS)
    imp.ok("persons", roster([G, "张三", "390", "正常参保", "320500", "", "G1", ""]))
    imp.ok("persons", roster([G, "张三", "310", "正常参保", "320500", "", "G1", ""]))
    body = person(staff, "G1")
    assert body["has_account"] is True and body["balance"] == "0.00"


def test_person_bad_values(imp):
    imp.ok("regions", REGIONS)
    out = imp.fails("persons", roster(
        [G, "", "310", "正常参保", "320500", "", "", ""],
        [C, "张小明", "390", "参保", "320500", "", "", ""],
        [make_id("19900101", "555"), "王五", "390", "正常参保", "320500", "学生", "", ""],
        ["32010219900101555", "赵六", "390", "正常参保", "320500", "", "", ""],
    ))  # fmt: skip
    for line in (2, 3, 4, 5):
        assert f"第{line}行" in out


# --- credits -----------------------------------------------------------------------------------------------------


@pytest.fixture
def account(imp, staff):
    imp.ok("regions", REGIONS)
    imp.ok("persons", roster([G, "张三", "310", "正常参保", "320500", "", "G1", ""],
                             [C, "张小明", "390", "正常参保", "320500", "", "C1", ""]))  # fmt: skip
    return lambda: person(staff, "G1")["balance"]


def test_credit_kinds(imp, account):
    out = imp.ok("credits", [CREDIT_HEADER, ["R1", G, "100.00", "期初余额", "2025-01-01"],
                             ["R2", G, "50.5", "划入", "2025-02-01"], ["R3", G, "-20.00", "调整", "2025-02-02"],
                             ["R4", G, "5.00", "调整", "2025-02-03"]])  # fmt: skip
    assert counts(out) == (4, 0, 0, 0)
    assert account() == "135.50"


def test_credit_kinds_english_names_accepted(imp, account):
    """"`类型` (kind: `期初余额` opening | `划入` allocation | `调整` adjustment)": English names are aliases too."""
    out = imp.ok("credits", [CREDIT_HEADER, ["R1", G, "100.00", "opening", "2025-01-01"],
                             ["R2", G, "50.00", "Allocation", "2025-02-01"],
                             ["R3", G, "-20.00", "ADJUSTMENT", "2025-02-02"]])  # fmt: skip
    assert counts(out) == (3, 0, 0, 0)
    assert account() == "130.00"
    out = imp.fails("credits", [CREDIT_HEADER, ["R4", G, "5.00", "bonus", "2025-02-03"]])
    assert "第2行" in out and "期初余额" in out  # the message lists the Chinese names


def test_credit_reference_applied_once(imp, account):
    rows = [CREDIT_HEADER, ["R1", G, "100.00", "划入", "2025-01-01"]]
    imp.ok("credits", rows)
    out = imp.ok("credits", rows)
    assert counts(out) == (0, 0, 1, 0)
    assert account() == "100.00"


def test_credit_reference_already_applied_is_unchanged_never_applied_twice(imp, account):
    """"a reference already applied is reported unchanged, never applied twice", whatever the row says now."""
    imp.ok("credits", [CREDIT_HEADER, ["R1", G, "100.00", "划入", "2025-01-01"]])
    out = imp.ok("credits", [CREDIT_HEADER, ["R1", G, "200.00", "划入", "2025-01-01"]])
    assert "未变 1" in out and "第2行" in out  # counted unchanged; the clerk is told the row differs
    assert account() == "100.00"


def test_credit_adjustment_never_below_zero(imp, account):
    imp.ok("credits", [CREDIT_HEADER, ["R1", G, "10.00", "划入", "2025-01-01"]])
    out = imp.fails("credits", [CREDIT_HEADER, ["R2", G, "5.00", "划入", "2025-01-02"],
                                ["R3", G, "-20.00", "调整", "2025-01-03"]])  # fmt: skip
    assert "第3行" in out and "第2行" not in out
    assert account() == "10.00"
    imp.ok("credits", [CREDIT_HEADER, ["R3", G, "-10.00", "调整", "2025-01-03"]])
    assert account() == "0.00"


def test_credit_bad_rows(imp, account):
    out = imp.fails("credits", [
        CREDIT_HEADER,
        ["R1", G, "10.001", "划入", "2025-01-01"],
        ["R2", G, "abc", "划入", "2025-01-01"],
        ["R3", G, "-5.00", "划入", "2025-01-01"],
        ["R4", C, "5.00", "划入", "2025-01-01"],  # resident: no personal account
        ["R5", make_id("19900101", "777"), "5.00", "划入", "2025-01-01"],  # unknown person
        ["R6", G, "5.00", "奖励", "2025-01-01"],
        ["R7", G, "5.00", "划入", "2025-13-01"],
        ["", G, "5.00", "划入", "2025-01-01"],
    ])  # fmt: skip
    for line in range(2, 10):
        assert f"第{line}行" in out, line
    assert account() == "0.00"


def test_credit_blank_amount_and_balance_beyond_the_column_are_row_errors(imp, account):
    """A blank amount is reported as missing; a credit that would take a balance past what the ledger can hold is a
    row error with its line, not a database failure."""
    out = imp.fails("credits", [CREDIT_HEADER, ["R1", G, "", "划入", "2025-01-01"]])
    assert "第2行 列「金额」：不能为空" in out
    out = imp.fails("credits", [CREDIT_HEADER, ["R1", G, "999999999999.99", "期初余额", "2025-01-01"],
                                ["R2", G, "0.01", "划入", "2025-01-02"]])  # fmt: skip
    assert "第3行 列「金额」：入账后个人账户余额将超出" in out and "第2行" not in out
    assert account() == "0.00"


def test_credit_entry_in_ledger_on_its_date(imp, account, staff):
    imp.ok("credits", [CREDIT_HEADER, ["R1", G, "100.00", "划入", "2025-01-15"]])
    body = staff.get("/api/v1/persons/G1/ledger").json()
    entries = body["results"] if isinstance(body, dict) else body
    assert len(entries) == 1 and entries[0]["amount"] == "100.00" and entries[0]["kind"] == "allocation"
    assert entries[0]["occurred_at"].startswith("2025-01-15") and entries[0]["occurred_at"].endswith("+08:00")


# --- filings -----------------------------------------------------------------------------------------------------

FILING_HEADER = ["身份证号", "就医地", "开始日期", "结束日期"]


def test_filings_optional_end_and_reimport(imp, account):
    rows = [FILING_HEADER, [C, "320100", "2025-01-01", ""], [G, "360100", "2025-01-01", "2025-12-31"]]
    assert counts(imp.ok("filings", rows)) == (2, 0, 0, 0)
    assert counts(imp.ok("filings", rows)) == (0, 0, 2, 0)
    no_end = [["身份证号", "就医地", "开始日期"], [C, "320500", "2025-01-01"]]
    assert counts(imp.ok("filings", no_end)) == (1, 0, 0, 0)


def test_filings_file_without_end_column_keeps_end_dates_on_record(imp, account, staff):
    """`结束日期` is optional: a file without the column says nothing about the end, so a filing's recorded end stays
    (as a roster without 人员类别 keeps the category); a blank cell in the column does clear it."""
    imp.ok("filings", [FILING_HEADER, [G, "360100", "2025-01-01", "2025-12-31"]])
    out = imp.ok("filings", [["身份证号", "就医地", "开始日期"], [G, "360100", "2025-01-01"]])
    assert counts(out) == (0, 0, 1, 0)
    out = imp.ok("filings", [FILING_HEADER, [G, "360100", "2025-01-01", ""]])
    assert counts(out) == (0, 1, 0, 0)


def test_filings_bad_rows(imp, account):
    out = imp.fails("filings", [FILING_HEADER, [C, "320100", "2025-03-01", "2025-02-01"],
                                [C, "999999", "2025-01-01", ""],
                                [make_id("19900101", "777"), "320100", "2025-01-01", ""]])  # fmt: skip
    assert "第2行" in out and "第3行" in out and "第4行" in out


# --- family links ------------------------------------------------------------------------------------------------

LINK_HEADER = ["持有人身份证号", "亲属身份证号", "关系", "核验方式"]


def test_family_link_proof_fits_age(imp, staff):
    today = datetime.date.today()
    kid = make_id(f"{today.year - 10}0101", "333")
    adult = make_id("19450303", "042")
    imp.ok("regions", REGIONS)
    imp.ok("persons", roster([G, "张三", "310", "正常参保", "320500", "", "G1", ""],
                             [kid, "张小小", "390", "正常参保", "320500", "", "K1", ""],
                             [adult, "李四", "390", "正常参保", "320500", "", "M1", ""]))  # fmt: skip
    out = imp.fails("family_links", [LINK_HEADER, [G, kid, "子女", "刷脸"], [G, adult, "父母", "出生证明"],
                                     [G, adult, "父母", "公证书"]])  # fmt: skip
    assert "第2行" in out and "第3行" in out and "第4行" in out
    for proof in ("出生证明", "户口簿", "公证书"):
        assert imp.run("family_links", [LINK_HEADER, [G, kid, "子女", proof]], dry_run=True).ok, proof
    for proof in ("户口簿", "刷脸"):
        assert imp.run("family_links", [LINK_HEADER, [G, adult, "父母", proof]], dry_run=True).ok, proof
    out = imp.ok("family_links", [LINK_HEADER, [G, kid, "子女", "出生证明"], [G, adult, "父母", "刷脸"]])
    assert counts(out) == (2, 0, 0, 0)
    assert counts(imp.ok("family_links", [LINK_HEADER, [G, kid, "子女", "出生证明"]])) == (0, 0, 1, 0)


def test_family_link_age_sixteen_boundary(imp):
    """16 or under: a child's proof (aged 16 counts as "16 or under"); at 17 the relative is over 16."""
    year = datetime.date.today().year
    sixteen, seventeen = make_id(f"{year - 16}0101", "337"), make_id(f"{year - 17}0101", "339")
    imp.ok("regions", REGIONS)
    imp.ok("persons", roster([G, "张三", "310", "正常参保", "320500", "", "G1", ""],
                             [sixteen, "张十六", "390", "正常参保", "320500", "", "S16", ""],
                             [seventeen, "张十七", "390", "正常参保", "320500", "", "S17", ""]))  # fmt: skip
    assert imp.run("family_links", [LINK_HEADER, [G, sixteen, "子女", "出生证明"]], dry_run=True).ok
    assert not imp.run("family_links", [LINK_HEADER, [G, sixteen, "子女", "刷脸"]], dry_run=True).ok
    assert imp.run("family_links", [LINK_HEADER, [G, seventeen, "子女", "刷脸"]], dry_run=True).ok
    assert not imp.run("family_links", [LINK_HEADER, [G, seventeen, "子女", "出生证明"]], dry_run=True).ok


def test_xlsx_with_native_dates_and_numbers(imp, account, staff):
    """Spreadsheets store dates as dates and amounts as numbers; both are read as the text they show."""
    imp.ok("credits", [CREDIT_HEADER, ["R1", G, 100.5, "期初余额", datetime.date(2025, 1, 1)],
                       ["R2", G, 19.99, "划入", datetime.datetime(2025, 2, 1)]], xlsx=True)  # fmt: skip
    assert account() == "120.49"
    imp.ok("filings", [FILING_HEADER, [C, 320100, datetime.date(2025, 1, 1), None]], xlsx=True)


def test_xlsx_with_stale_sheet_dimension_reads_every_row(imp, tmp_path):
    """Some exporters leave the sheet's recorded size (`<dimension ref=…>`) stale; every row and column present is
    still read (openpyxl's read-only mode trusts that size unless told not to): no row is silently dropped."""
    import zipfile

    from tests.contract.conftest import write_xlsx

    rows = [["区划代码", "名称"], ["320000", "江苏省"], ["320500", "苏州市"], ["320100", "南京市"]]
    good = write_xlsx(tmp_path / "good.xlsx", rows)
    for ref in ("A1:B2", "A1"):
        stale = tmp_path / f"stale_{ref.replace(':', '_')}.xlsx"
        with zipfile.ZipFile(good) as source, zipfile.ZipFile(stale, "w") as target:
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data, replaced = re.subn(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), data)
                    assert replaced == 1
                target.writestr(item, data)
        out = imp.ok("regions", stale, dry_run=True)
        assert counts(out) == (3, 0, 0, 0), (ref, out)
