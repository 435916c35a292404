# ruff: noqa: S608 -- table and column names come from model _meta and constants; every value is a parameter.
"""One spec per import resource of imports.md: its columns (Chinese names, English aliases), how a row is
cleaned, how a chunk is checked against the database (a fixed number of queries per chunk) and written.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from accounts.divisions import PROVINCES
from accounts.imports import rows as R
from accounts.imports.pipeline import CHUNK_SIZE, NEW, UNCHANGED, UPDATED, ImportReport
from accounts.imports.reading import ImportFileError
from accounts.models import (
    ZERO,
    CrossRegionFiling,
    InsuranceStatus,
    InsuranceType,
    LedgerEntry,
    LedgerEntryKind,
    Person,
    PersonalAccount,
    PersonnelCategory,
    Region,
)
from accounts.services import (
    PersonChanges,
    person_changes_apply,
    person_changes_between,
    person_no_generate,
    provinces_ensure,
)

MSG_PERSON_UNKNOWN = "查无此参保人员（身份证号未登记，请先导入花名册）"
MSG_NO_ACCOUNT = "该人员没有个人账户（仅职工医保参保人员有个人账户），不能入账"
MSG_REFERENCE_APPLIED_DIFFERENTLY = (
    "第{line}行 列「流水号」：流水号「{reference}」已入账（{applied}），本行（{given}）未再入账，计为未变；"
    "如确需再入账，请使用新的流水号"
)
MSG_BELOW_ZERO = "入账后个人账户余额将低于零（入账前余额 {balance} 元）"
MSG_ABOVE_LIMIT = "入账后个人账户余额将超出系统可记录的上限（入账前余额 {balance} 元），请核对金额"
MSG_PROVINCE_ADDED = "区划 {code}（{name}）不在区划表中，{verb}按国家标准 GB/T 2260 补建省级区划"
MSG_CREDIT_POSITIVE = "期初余额和划入金额不能为负数"
MSG_ZERO_AMOUNT = "第{line}行 列「金额」：金额为 0，不记流水，计为未变"
MSG_PERSON_NO_TAKEN = "人员编号已属于另一参保人员"
MSG_PERSON_NO_DIFFERS = "与系统中该人员的人员编号（{person_no}）不一致"
MSG_END_BEFORE_START = "结束日期不能早于开始日期"
MSG_KINSHIPS_EMPTY = "至少填写一种亲属关系"

INSURANCE_TYPES = {
    "职工基本医疗保险": InsuranceType.EMPLOYEE,
    "310": InsuranceType.EMPLOYEE,
    "城乡居民基本医疗保险": InsuranceType.RESIDENT,
    "390": InsuranceType.RESIDENT,
}
INSURANCE_STATUSES = {
    "正常参保": InsuranceStatus.NORMAL,
    "暂停参保": InsuranceStatus.SUSPENDED,
    "终止参保": InsuranceStatus.TERMINATED,
    "未参保": InsuranceStatus.UNINSURED,
}
CATEGORIES = {
    "在职": PersonnelCategory.EMPLOYED,
    "退休": PersonnelCategory.RETIRED,
    "灵活就业": PersonnelCategory.FLEXIBLE,
}
CREDIT_KINDS = {
    "期初余额": LedgerEntryKind.OPENING,
    "划入": LedgerEntryKind.ALLOCATION,
    "调整": LedgerEntryKind.ADJUSTMENT,
}
CREDIT_KIND_LABELS = {kind: label for label, kind in CREDIT_KINDS.items()}
# imports.md names each kind in English too (`期初余额` opening | `划入` allocation | `调整` adjustment): the English
# words are accepted as values as well (any case); messages list the Chinese ones.
CREDIT_KIND_VALUES = {
    **CREDIT_KINDS,
    "opening": LedgerEntryKind.OPENING,
    "allocation": LedgerEntryKind.ALLOCATION,
    "adjustment": LedgerEntryKind.ADJUSTMENT,
}
INSTITUTION_KINDS = {"医疗机构": "medical", "零售药店": "pharmacy"}
KINSHIPS = {
    "配偶": "spouse",
    "父母": "parent",
    "子女": "child",
    "兄弟姐妹": "sibling",
    "祖父母": "paternal_grandparent",
    "外祖父母": "maternal_grandparent",
    "孙子女": "grandchild",
    "外孙子女": "maternal_grandchild",
}
KINSHIP_ORDER = list(KINSHIPS.values())
SCOPES = {"统筹区": "pooling_region", "省内": "province", "全国": "national"}
VERIFICATIONS = {"出生证明": "birth_certificate", "户口簿": "household_register", "公证书": "notarized", "刷脸": "face"}
KINSHIP_SPLIT_RE = re.compile(r"[、,，]")


@dataclass(frozen=True)
class Column:
    name: str  # English alias, also the key of the cleaned row
    label: str  # Chinese header
    required: bool = True  # must be in the header


class Row:
    __slots__ = ("line", "data", "status", "pk", "extra")

    def __init__(self, line: int, data: dict):
        self.line = line
        self.data = data
        self.status = ""
        self.pk = None
        self.extra = None


class ResourceSpec:
    """Base of the per-resource specs. Subclasses give `columns`, `parsers`, `check` and `write`."""

    name = ""
    title = ""
    columns: tuple[Column, ...] = ()
    # The region column may name a GB/T 2260 province missing from the table: accepted, and added when written.
    provinces_allowed = False

    def __init__(self, *, report: ImportReport, acting_user=None):
        self.report = report
        self.acting_user = acting_user
        self.labels = {c.name: c.label for c in self.columns}
        self.present: set[str] = set()
        self.seen: set = set()
        self.now = timezone.now()
        self.postgres = connection.vendor == "postgresql"

    # --- header ---------------------------------------------------------------------------------------
    def map_header(self, header: list[str]) -> dict[str, int]:
        cells = [cell.strip().lstrip("\ufeff").strip() for cell in header]
        lowered = [cell.lower() for cell in cells]
        index, missing = {}, []
        for column in self.columns:
            for i, (cell, low) in enumerate(zip(cells, lowered, strict=True)):
                if cell == column.label or low == column.name.lower():
                    index[column.name] = i
                    break
            else:
                if column.required:
                    missing.append(f"「{column.label}」（{column.name}）")
        if missing:
            raise ImportFileError(
                f"缺少必需的列：{'、'.join(missing)}。表头应为：{'、'.join(c.label for c in self.columns)}"
                "（请检查表头行和文件编码）"
            )
        self.present = set(index)
        return index

    # --- rows -------------------------------------------------------------------------------------------
    def parsers(self) -> list[tuple[str, object]]:
        raise NotImplementedError

    def error(self, line: int, column: str, message: str) -> None:
        self.report.add_error(line, self.labels.get(column, column), message)

    def parse(self, line: int, values: dict[str, str]) -> tuple[dict, bool]:
        data, bad = {}, False
        for name, parser in self._parsers:
            if name not in values:
                continue
            value = values[name]
            try:
                if value and value[0] in "=+-@" and R.looks_like_formula(value):
                    raise R.CellError(R.MSG_FORMULA)
                data[name] = parser(value)
            except R.CellError as exc:
                self.error(line, name, exc.message)
                bad = True
        return data, bad

    def unique(self, line: int, column: str, key) -> bool:
        """In-file uniqueness of the row's key; the second occurrence is the bad row."""
        if key in self.seen:
            self.error(line, column, R.MSG_DUPLICATE_IN_FILE)
            return False
        self.seen.add(key)
        return True

    def clean_row(self, line: int, values: dict[str, str]) -> Row | None:
        data, bad = self.parse(line, values)
        if not self.validate(line, data, bad) or bad:
            return None
        return Row(line, data)

    def validate(self, line: int, data: dict, bad: bool) -> bool:
        """Cross-cell rules and in-file uniqueness; False when the row is bad."""
        return True

    # --- chunks -----------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.provinces_allowed:
            self.regions = self.regions_or_provinces()
        self._parsers = self.parsers()

    def consume(self, records, index: dict[str, int]) -> None:
        """Clean every (line, cells) record; check and write in chunks of CHUNK_SIZE clean rows."""
        chunk = []
        for line, cells in records:
            if not any(cells):
                continue
            width = len(cells)
            values = {name: (cells[i] if i < width else "") for name, i in index.items()}
            row = self.clean_row(line, values)
            if row is not None:
                chunk.append(row)
                if len(chunk) >= CHUNK_SIZE:
                    self.process(chunk)
                    chunk = []
        if chunk:
            self.process(chunk)

    def process(self, chunk: list[Row]) -> None:
        writing = self.report.ok
        self.check(chunk)
        good = []
        for row in chunk:
            if row.status:
                self.report.count(row.status)
                if row.status != UNCHANGED:
                    good.append(row)
        if writing and self.report.ok and good:
            if self.provinces_allowed:
                self.provinces_add(good)
            self.write(good)

    def check(self, chunk: list[Row]) -> None:
        raise NotImplementedError

    def write(self, rows: list[Row]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        pass

    # --- helpers ----------------------------------------------------------------------------------------
    def known_regions(self) -> set[str]:
        return set(Region.objects.values_list("code", flat=True))

    def regions_or_provinces(self) -> set[str]:
        """Known regions plus every province of GB/T 2260: a spec with `provinces_allowed` (policies, institutions,
        filings) may name a province (320000) that the regions file did not list; `provinces_add` adds it when the
        rows are written."""
        return self.known_regions() | set(PROVINCES)

    def provinces_add(self, rows: list[Row]) -> None:
        for region in provinces_ensure(r.data["region"] for r in rows):
            verb = "将" if self.report.dry_run else "已"  # a dry run is rolled back: nothing was added
            self.report.notes.append(MSG_PROVINCE_ADDED.format(code=region.code, name=region.name, verb=verb))

    def dt(self, value):
        """A datetime as the raw cursor of this database wants it."""
        return value if self.postgres else connection.ops.adapt_datetimefield_value(value)

    def in_list(self, values) -> tuple[str, list]:
        """`= ANY(%s)` with one array parameter on PostgreSQL, `IN (%s, ...)` on SQLite."""
        values = list(values)
        if self.postgres:
            return "= ANY(%s)", [values]
        return f"IN ({', '.join(['%s'] * len(values))})", values


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- regions ------------------------------------------------------------------------------------------


class RegionSpec(ResourceSpec):
    name = "regions"
    title = "区划"
    columns = (Column("code", "区划代码"), Column("name", "名称"))

    def parsers(self):
        return [("code", R.region_code), ("name", lambda v: R.text(v, max_length=100))]

    def validate(self, line, data, bad):
        return "code" not in data or self.unique(line, "code", data["code"])

    def check(self, chunk):
        existing = dict(Region.objects.filter(code__in=[r.data["code"] for r in chunk]).values_list("code", "name"))
        for row in chunk:
            old = existing.get(row.data["code"])
            row.status = NEW if old is None else (UNCHANGED if old == row.data["name"] else UPDATED)

    def write(self, rows):
        new = [Region(code=r.data["code"], name=r.data["name"]) for r in rows if r.status == NEW]
        changed = [Region(code=r.data["code"], name=r.data["name"]) for r in rows if r.status == UPDATED]
        Region.objects.bulk_create(new, batch_size=500)
        Region.objects.bulk_update(changed, ["name"], batch_size=500)


# --- institutions -------------------------------------------------------------------------------------


class InstitutionSpec(ResourceSpec):
    name = "institutions"
    title = "定点医药机构"
    provinces_allowed = True
    columns = (
        Column("code", "机构编码"),
        Column("name", "机构名称"),
        Column("kind", "机构类型"),
        Column("region", "区划代码"),
        Column("designated", "定点"),
    )
    FIELDS = ("name", "kind", "region_id", "designated")

    def parsers(self):
        return [
            ("code", lambda v: R.text(v, max_length=30)),
            ("name", lambda v: R.text(v, max_length=200)),
            ("kind", lambda v: R.choice(v, INSTITUTION_KINDS)),
            ("region", lambda v: R.region_code(v, self.regions)),
            ("designated", R.boolean),
        ]

    def validate(self, line, data, bad):
        return "code" not in data or self.unique(line, "code", data["code"])

    def _values(self, data):
        return (data["name"], data["kind"], data["region"], data["designated"])

    def check(self, chunk):
        from settlements.models import Institution

        codes = [r.data["code"] for r in chunk]
        existing = {
            rec[0]: rec[1:]
            for rec in Institution.objects.filter(code__in=codes).values_list("code", "pk", *self.FIELDS)
        }
        for row in chunk:
            old = existing.get(row.data["code"])
            if old is None:
                row.status = NEW
            else:
                row.pk = old[0]
                row.status = UNCHANGED if tuple(old[1:]) == self._values(row.data) else UPDATED

    def write(self, rows):
        from settlements.models import Institution

        objs = {NEW: [], UPDATED: []}
        for r in rows:
            obj = Institution(pk=r.pk, code=r.data["code"], updated_at=self.now)
            obj.name, obj.kind, obj.region_id, obj.designated = self._values(r.data)
            objs[r.status].append(obj)
        Institution.objects.bulk_create(objs[NEW], batch_size=500)
        Institution.objects.bulk_update(objs[UPDATED], [*self.FIELDS, "updated_at"], batch_size=500)


# --- policies -----------------------------------------------------------------------------------------


def kinship_list(value: str) -> list[str]:
    names = [part.strip() for part in KINSHIP_SPLIT_RE.split(value) if part.strip()]
    if not names:
        raise R.CellError(MSG_KINSHIPS_EMPTY)
    found = set()
    for name in names:
        if name not in KINSHIPS:
            raise R.CellError(R.MSG_CHOICE.format(value=name, options=" ".join(KINSHIPS)))
        found.add(KINSHIPS[name])
    return [k for k in KINSHIP_ORDER if k in found]


class PolicySpec(ResourceSpec):
    name = "policies"
    title = "共济政策"
    provinces_allowed = True
    columns = (
        Column("region", "区划代码"),
        Column("effective_from", "生效日期"),
        Column("kinships", "共济亲属范围"),
        Column("scope", "地域范围"),
        Column("spouse_confirmation", "配偶需确认"),
        Column("single_relationship", "限一个共济关系"),
    )
    FIELDS = ("kinships", "scope", "spouse_confirmation", "single_relationship")

    def parsers(self):
        return [
            ("region", lambda v: R.region_code(v, self.regions)),
            ("effective_from", R.date),
            ("kinships", kinship_list),
            ("scope", lambda v: R.choice(v, SCOPES)),
            ("spouse_confirmation", R.boolean),
            ("single_relationship", R.boolean),
        ]

    def validate(self, line, data, bad):
        if "region" in data and "effective_from" in data:
            return self.unique(line, "effective_from", (data["region"], data["effective_from"]))
        return True

    def check(self, chunk):
        from bindings.models import Policy

        existing = {
            (rec[0], rec[1]): rec[2:]
            for rec in Policy.objects.filter(
                region_id__in={r.data["region"] for r in chunk},
                effective_from__in={r.data["effective_from"] for r in chunk},
            ).values_list("region_id", "effective_from", "pk", *self.FIELDS)
        }
        for row in chunk:
            old = existing.get((row.data["region"], row.data["effective_from"]))
            if old is None:
                row.status = NEW
            else:
                row.pk = old[0]
                same = tuple(old[1:]) == tuple(row.data[f] for f in self.FIELDS)
                row.status = UNCHANGED if same else UPDATED

    def write(self, rows):
        from bindings.models import Policy

        objs = {NEW: [], UPDATED: []}
        for r in rows:
            obj = Policy(pk=r.pk, region_id=r.data["region"], effective_from=r.data["effective_from"])
            for f in self.FIELDS:
                setattr(obj, f, r.data[f])
            obj.updated_at = self.now
            objs[r.status].append(obj)
        Policy.objects.bulk_create(objs[NEW], batch_size=500)
        Policy.objects.bulk_update(objs[UPDATED], [*self.FIELDS, "updated_at"], batch_size=500)


# --- persons (the roster) -----------------------------------------------------------------------------

PERSON_COLUMNS = (
    "person_no", "id_number", "name", "sex", "birth_date", "insurance_type", "insurance_status",
    "region_id", "category", "phone", "created_at", "updated_at",
)  # fmt: skip


class PersonSpec(ResourceSpec):
    """Matched on the ID number. Status, region and type changes end authorizations by R13, set-based,
    once for the whole file (accounts.services.person_changes_apply with source="import")."""

    name = "persons"
    title = "参保人员花名册"
    columns = (
        Column("id_number", "身份证号"),
        Column("name", "姓名"),
        Column("insurance_type", "险种"),
        Column("insurance_status", "参保状态"),
        Column("region", "参保地"),
        Column("category", "人员类别", required=False),
        Column("person_no", "人员编号", required=False),
        Column("phone", "手机号", required=False),
    )

    def start(self):
        self.regions = self.known_regions()
        self.seen_person_no: set = set()
        self.ended: set[int] = set()
        self.moved: set[int] = set()
        self.left: set[int] = set()
        super().start()
        if self.postgres:
            from accounts.imports.roster_pg import StagedRoster

            self.staged = StagedRoster(self)

    def consume(self, records, index):
        if self.postgres:
            self.staged.consume(records, index)
        else:
            super().consume(records, index)

    def parsers(self):
        return [
            ("id_number", R.id_number),
            ("name", lambda v: R.text(v, max_length=50)),
            (
                "insurance_type",
                lambda v: R.choice(v, INSURANCE_TYPES, options="职工基本医疗保险(310) | 城乡居民基本医疗保险(390)"),
            ),
            ("insurance_status", lambda v: R.choice(v, INSURANCE_STATUSES)),
            ("region", lambda v: R.region_code(v, self.regions)),
            ("category", lambda v: R.choice(v, CATEGORIES, required=False)),
            ("person_no", lambda v: R.text(v, max_length=30, required=False)),
            ("phone", lambda v: R.text(v, max_length=20, required=False)),
        ]

    def validate(self, line, data, bad):
        ok = True
        if "id_number" in data:
            ok = self.unique(line, "id_number", int(data["id_number"][0][:17]))
        person_no = data.get("person_no")
        if person_no:
            key = R.person_no_key(person_no)
            if key in self.seen_person_no:
                self.error(line, "person_no", R.MSG_DUPLICATE_IN_FILE)
                ok = False
            self.seen_person_no.add(key)
        return ok

    def check(self, chunk):
        ids = [r.data["id_number"][0] for r in chunk]
        numbers = [r.data["person_no"] for r in chunk if r.data.get("person_no")]
        query = Q(id_number__in=ids)
        if numbers:
            query |= Q(person_no__in=numbers)
        by_id, owner_of_no = {}, {}
        fields = ("pk", "id_number", "person_no", "name", "insurance_type", "insurance_status", "region_id",
                  "category", "phone", "account__id")  # fmt: skip
        for rec in Person.objects.filter(query).values_list(*fields):
            by_id[rec[1]] = rec
            owner_of_no[rec[2]] = rec[1]
        has_category, has_phone = "category" in self.present, "phone" in self.present
        for row in chunk:
            d = row.data
            idn = d["id_number"][0]
            old = by_id.get(idn)
            person_no = d.get("person_no", "")
            if person_no:
                owner = owner_of_no.get(person_no)
                if owner is not None and owner != idn:
                    self.error(row.line, "person_no", MSG_PERSON_NO_TAKEN)
                    continue
                if old is not None and old[2] != person_no:
                    self.error(row.line, "person_no", MSG_PERSON_NO_DIFFERS.format(person_no=old[2]))
                    continue
            category = d["category"] if has_category else (old[7] if old else "")
            phone = d["phone"] if has_phone else (old[8] if old else "")
            new = (d["name"], d["insurance_type"], d["insurance_status"], d["region"], category, phone)
            row.extra = new
            if old is None:
                row.status = NEW
                row.pk = person_no or person_no_generate(d["region"])
                continue
            row.pk = old[0]
            if tuple(old[3:9]) == new:
                row.status = UNCHANGED
                continue
            row.status = UPDATED
            d["has_account"] = old[9] is not None
            changes = person_changes_between(
                {"insurance_status": old[5], "region_id": old[6], "insurance_type": old[4]},
                {"insurance_status": new[2], "region_id": new[3], "insurance_type": new[1]},
                old[0],
            )
            self.ended |= changes.suspended_or_terminated
            self.moved |= changes.moved_region
            self.left |= changes.left_employee_insurance

    def write(self, rows):
        person_table = Person._meta.db_table
        account_table = PersonalAccount._meta.db_table
        now = self.dt(self.now)
        new, changed, needs_account = [], [], []
        for r in rows:
            idn, facts = r.data["id_number"]
            name, itype, status, region, category, phone = r.extra
            if r.status == NEW:
                new.append((r.pk, idn, name, facts.sex, facts.birth_date, itype, status, region, category, phone,
                            now, now))  # fmt: skip
                if itype == InsuranceType.EMPLOYEE:
                    needs_account.append(idn)
            else:
                changed.append((name, itype, status, region, category, phone, now, r.pk))
                if itype == InsuranceType.EMPLOYEE and not r.data["has_account"]:
                    needs_account.append(idn)
        with connection.cursor() as cursor:
            if new and self.postgres:
                with cursor.cursor.copy(f"COPY {person_table} ({', '.join(PERSON_COLUMNS)}) FROM STDIN") as copy:
                    for record in new:
                        copy.write_row(record)
            elif new:
                cursor.executemany(
                    f"INSERT INTO {person_table} ({', '.join(PERSON_COLUMNS)}) VALUES ({', '.join(['%s'] * 12)})",
                    new,
                )
            if changed and self.postgres:
                cursor.execute(
                    f"""UPDATE {person_table} AS p SET name = v.name, insurance_type = v.itype,
                        insurance_status = v.status, region_id = v.region, category = v.category, phone = v.phone,
                        updated_at = %s
                        FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],
                                    %s::text[]) AS v(id, name, itype, status, region, category, phone)
                        WHERE p.id = v.id""",
                    [self.now, *(list(col) for col in zip(*[(c[7], *c[:6]) for c in changed], strict=True))],
                )
            elif changed:
                cursor.executemany(
                    f"UPDATE {person_table} SET name = %s, insurance_type = %s, insurance_status = %s, region_id = %s,"
                    " category = %s, phone = %s, updated_at = %s WHERE id = %s",
                    changed,
                )
            if needs_account:
                condition, params = self.in_list(needs_account)
                cursor.execute(
                    f"""INSERT INTO {account_table} (person_id, balance, opened_at)
                        SELECT p.id, %s, %s FROM {person_table} p WHERE p.id_number {condition}
                        AND NOT EXISTS (SELECT 1 FROM {account_table} a WHERE a.person_id = p.id)""",
                    [ZERO, now, *params],
                )

    def finish(self):
        if self.postgres:
            changes = self.staged.write()
            self.staged.drop()
        else:
            changes = PersonChanges(
                suspended_or_terminated=frozenset(self.ended),
                moved_region=frozenset(self.moved),
                left_employee_insurance=frozenset(self.left),
            )
        self.report.ended_authorizations = person_changes_apply(
            changes=changes, source="import", acting_user=self.acting_user
        )


# --- credits ------------------------------------------------------------------------------------------

LEDGER_COLUMNS = (
    "account_id", "kind", "amount", "balance_after", "occurred_at", "reference", "note", "created_by_id", "created_at",
)  # fmt: skip


class CreditSpec(ResourceSpec):
    """Each row one ledger entry; idempotent by reference. Balances are tracked per account across the file,
    under row locks, so an adjustment never takes a balance below zero."""

    name = "credits"
    title = "个人账户划入"
    columns = (
        Column("reference", "流水号"),
        Column("id_number", "身份证号"),
        Column("amount", "金额"),
        Column("kind", "类型"),
        Column("date", "入账日期"),
    )
    NOTE = "个人账户划入导入"

    def start(self):
        self.balances: dict[int, Decimal] = {}
        super().start()

    def parsers(self):
        return [
            ("reference", lambda v: R.text(v, max_length=64)),
            ("id_number", R.id_number),
            ("amount", R.money),
            ("kind", lambda v: R.choice(v.lower() if v.isascii() else v, CREDIT_KIND_VALUES)),
            ("date", R.date),
        ]

    def validate(self, line, data, bad):
        ok = "reference" not in data or self.unique(line, "reference", data["reference"])
        amount, kind = data.get("amount"), data.get("kind")
        if amount is not None and kind and kind != LedgerEntryKind.ADJUSTMENT and amount < ZERO:
            self.error(line, "amount", MSG_CREDIT_POSITIVE)
            ok = False
        return ok

    def check(self, chunk):
        ids = {r.data["id_number"][0] for r in chunk}
        accounts = dict(Person.objects.filter(id_number__in=ids).values_list("id_number", "account__id"))
        unseen = {pk for pk in accounts.values() if pk is not None and pk not in self.balances}
        if unseen:
            # Row locks in primary-key order, like account_credit (no lost update with a settlement at once).
            locked = PersonalAccount.objects.select_for_update().filter(pk__in=unseen).order_by("pk")
            self.balances.update(locked.values_list("pk", "balance"))
        applied = {
            rec[0]: rec[1:]
            for rec in LedgerEntry.objects.filter(reference__in=[r.data["reference"] for r in chunk]).values_list(
                "reference", "account_id", "kind", "amount", "occurred_at"
            )
        }
        for row in chunk:
            d = row.data
            idn = d["id_number"][0]
            account = accounts.get(idn)
            if d["amount"] == ZERO and account is not None:
                # A zero line (an opening balance of nothing, a month with no allocation) moves no money: the account
                # already starts at 0.00 and the ledger holds no zero entries. Counted unchanged, and said so.
                row.status = UNCHANGED
                self.report.notes.append(MSG_ZERO_AMOUNT.format(line=row.line))
                continue
            at = _day_start(d["date"])
            old = applied.get(d["reference"])
            if old is not None:
                # imports.md: a reference already applied is reported unchanged, never applied twice. When the row
                # now says something else, the clerk is told what was applied and that this row was not.
                row.status = UNCHANGED
                if old != (account, d["kind"], d["amount"], at):
                    self.report.notes.append(self._applied_differently(row.line, d, old))
                continue
            if idn not in accounts:
                self.error(row.line, "id_number", MSG_PERSON_UNKNOWN)
                continue
            if account is None:
                self.error(row.line, "id_number", MSG_NO_ACCOUNT)
                continue
            balance = self.balances[account] + d["amount"]
            if balance < ZERO:
                self.error(row.line, "amount", MSG_BELOW_ZERO.format(balance=self.balances[account]))
                continue
            if balance >= R.MONEY_LIMIT:
                self.error(row.line, "amount", MSG_ABOVE_LIMIT.format(balance=self.balances[account]))
                continue
            self.balances[account] = balance
            row.status = NEW
            row.pk = account
            row.extra = (balance, at)

    @staticmethod
    def _applied_differently(line: int, data: dict, old: tuple) -> str:
        _, kind, amount, at = old
        applied = f"{CREDIT_KIND_LABELS.get(kind, kind)} {amount:.2f}，{timezone.localdate(at):%Y-%m-%d}"
        given = f"{CREDIT_KIND_LABELS[data['kind']]} {data['amount']:.2f}，{data['date']:%Y-%m-%d}"
        return MSG_REFERENCE_APPLIED_DIFFERENTLY.format(
            line=line, reference=data["reference"], applied=applied, given=given
        )

    def write(self, rows):
        ledger_table = LedgerEntry._meta.db_table
        account_table = PersonalAccount._meta.db_table
        now = self.dt(self.now)
        user_id = self.acting_user.pk if self.acting_user is not None else None
        entries = [
            (r.pk, r.data["kind"], r.data["amount"], r.extra[0], self.dt(r.extra[1]), r.data["reference"], self.NOTE,
             user_id, now)
            for r in rows
        ]  # fmt: skip
        final = {r.pk: self.balances[r.pk] for r in rows}
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {ledger_table} ({', '.join(LEDGER_COLUMNS)}) FROM STDIN") as copy:
                    for record in entries:
                        copy.write_row(record)
                cursor.execute(
                    f"""UPDATE {account_table} AS a SET balance = v.balance
                        FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, balance) WHERE a.id = v.id""",
                    [list(final), list(final.values())],
                )
            else:
                cursor.executemany(
                    f"INSERT INTO {ledger_table} ({', '.join(LEDGER_COLUMNS)}) VALUES ({', '.join(['%s'] * 9)})",
                    entries,
                )
                cursor.executemany(
                    f"UPDATE {account_table} SET balance = %s WHERE id = %s", [(b, pk) for pk, b in final.items()]
                )


# --- filings ------------------------------------------------------------------------------------------


class FilingSpec(ResourceSpec):
    name = "filings"
    title = "异地就医备案"
    provinces_allowed = True
    columns = (
        Column("id_number", "身份证号"),
        Column("region", "就医地"),
        Column("start", "开始日期"),
        Column("end", "结束日期", required=False),
    )

    def parsers(self):
        return [
            ("id_number", R.id_number),
            ("region", lambda v: R.region_code(v, self.regions)),
            ("start", R.date),
            ("end", lambda v: R.date(v, required=False)),
        ]

    def validate(self, line, data, bad):
        data.setdefault("end", None)
        if data.get("start") and data["end"] and data["end"] < data["start"]:
            self.error(line, "end", MSG_END_BEFORE_START)
            return False
        if {"id_number", "region", "start"} <= data.keys():
            return self.unique(line, "start", (data["id_number"][0], data["region"], data["start"]))
        return True

    def check(self, chunk):
        persons = dict(
            Person.objects.filter(id_number__in={r.data["id_number"][0] for r in chunk}).values_list("id_number", "pk")
        )
        existing = {
            (rec[0], rec[1], rec[2]): (rec[3], rec[4])
            for rec in CrossRegionFiling.objects.filter(person_id__in=persons.values()).values_list(
                "person_id", "treatment_region_id", "start_date", "pk", "end_date"
            )
        }
        for row in chunk:
            d = row.data
            person = persons.get(d["id_number"][0])
            if person is None:
                self.error(row.line, "id_number", MSG_PERSON_UNKNOWN)
                continue
            row.extra = person
            old = existing.get((person, d["region"], d["start"]))
            if old is None:
                row.status = NEW
            else:
                row.pk = old[0]
                if "end" not in self.present:
                    # The optional column is absent from the file: the end date on record stays (as a roster
                    # without 人员类别 or 手机号 keeps them), so a file of starts alone changes nothing.
                    d["end"] = old[1]
                row.status = UNCHANGED if old[1] == d["end"] else UPDATED

    def write(self, rows):
        objs = {NEW: [], UPDATED: []}
        for r in rows:
            objs[r.status].append(
                CrossRegionFiling(
                    pk=r.pk,
                    person_id=r.extra,
                    treatment_region_id=r.data["region"],
                    start_date=r.data["start"],
                    end_date=r.data["end"],
                    created_at=self.now,
                )
            )
        CrossRegionFiling.objects.bulk_create(objs[NEW], batch_size=500)
        CrossRegionFiling.objects.bulk_update(objs[UPDATED], ["end_date"], batch_size=500)


# --- family links -------------------------------------------------------------------------------------


class FamilyLinkSpec(ResourceSpec):
    """亲情账户. Proof must fit the relative's age: bindings.family_links.family_link_verification_check."""

    name = "family_links"
    title = "亲情账户"
    columns = (
        Column("owner_id_number", "持有人身份证号"),
        Column("relative_id_number", "亲属身份证号"),
        Column("kinship", "关系"),
        Column("verification", "核验方式"),
    )

    def parsers(self):
        return [
            ("owner_id_number", R.id_number),
            ("relative_id_number", R.id_number),
            ("kinship", lambda v: R.choice(v, {**KINSHIPS, "其他": "other"})),
            ("verification", lambda v: R.choice(v, VERIFICATIONS)),
        ]

    def validate(self, line, data, bad):
        from bindings.family_links import MSG_SELF_LINK, family_link_verification_check

        owner, relative = data.get("owner_id_number"), data.get("relative_id_number")
        if owner and relative and owner[0] == relative[0]:
            self.error(line, "relative_id_number", MSG_SELF_LINK)
            return False
        if relative and data.get("verification"):
            reason = family_link_verification_check(
                birth_date=relative[1].birth_date, verification=data["verification"]
            )
            if reason:
                self.error(line, "verification", reason)
                return False
        if owner and relative:
            return self.unique(line, "relative_id_number", (owner[0], relative[0]))
        return True

    def check(self, chunk):
        from bindings.models import FamilyLink

        ids = {r.data["owner_id_number"][0] for r in chunk} | {r.data["relative_id_number"][0] for r in chunk}
        persons = dict(Person.objects.filter(id_number__in=ids).values_list("id_number", "pk"))
        existing = {
            (rec[0], rec[1]): rec[2:]
            for rec in FamilyLink.objects.filter(
                owner_id__in={
                    persons[r.data["owner_id_number"][0]] for r in chunk if r.data["owner_id_number"][0] in persons
                }
            ).values_list("owner_id", "relative_id", "pk", "kinship", "verification")
        }
        for row in chunk:
            d = row.data
            owner, relative = persons.get(d["owner_id_number"][0]), persons.get(d["relative_id_number"][0])
            if owner is None:
                self.error(row.line, "owner_id_number", MSG_PERSON_UNKNOWN)
            if relative is None:
                self.error(row.line, "relative_id_number", MSG_PERSON_UNKNOWN)
            if owner is None or relative is None:
                continue
            row.extra = (owner, relative)
            old = existing.get((owner, relative))
            if old is None:
                row.status = NEW
            else:
                row.pk = old[0]
                row.status = UNCHANGED if old[1:] == (d["kinship"], d["verification"]) else UPDATED

    def write(self, rows):
        from bindings.models import FamilyLink

        objs = {NEW: [], UPDATED: []}
        for r in rows:
            objs[r.status].append(
                FamilyLink(
                    pk=r.pk,
                    owner_id=r.extra[0],
                    relative_id=r.extra[1],
                    kinship=r.data["kinship"],
                    verification=r.data["verification"],
                    created_by=self.acting_user if r.status == NEW else None,
                    created_at=self.now,
                )
            )
        FamilyLink.objects.bulk_create(objs[NEW], batch_size=500)
        FamilyLink.objects.bulk_update(objs[UPDATED], ["kinship", "verification"], batch_size=500)


RESOURCES: dict[str, type[ResourceSpec]] = {
    spec.name: spec
    for spec in (RegionSpec, InstitutionSpec, PolicySpec, PersonSpec, CreditSpec, FilingSpec, FamilyLinkSpec)
}
