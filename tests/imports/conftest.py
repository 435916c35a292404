"""Helpers for the import tests: write a file in a given encoding or as XLSX, run `import_data` on it."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests import factories


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


class Importer:
    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.count = 0

    def file(self, rows, *, encoding="utf-8", suffix=".csv") -> Path:
        self.count += 1
        path = self.tmp_path / f"import{self.count}{suffix}"
        if suffix == ".xlsx":
            return write_xlsx(path, rows)
        return write_csv(path, rows, encoding)

    def ok(self, resource: str, rows_or_path, *, dry_run=False, **file_options) -> str:
        path = rows_or_path if isinstance(rows_or_path, Path) else self.file(rows_or_path, **file_options)
        out = io.StringIO()
        call_command("import_data", resource, str(path), *(["--dry-run"] if dry_run else []), stdout=out)
        return out.getvalue()

    def fails(self, resource: str, rows_or_path, *, dry_run=False, **file_options) -> str:
        path = rows_or_path if isinstance(rows_or_path, Path) else self.file(rows_or_path, **file_options)
        out = io.StringIO()
        with pytest.raises(CommandError) as excinfo:
            call_command("import_data", resource, str(path), *(["--dry-run"] if dry_run else []), stdout=out)
        return out.getvalue() + "\n" + str(excinfo.value)


@pytest.fixture
def importer(tmp_path):
    return Importer(tmp_path)


@pytest.fixture
def regions(db):
    factories.region("320500", "苏州市")
    factories.region("320100", "南京市")
    factories.region("360100", "南昌市")


PERSON_HEADER = ["身份证号", "姓名", "险种", "参保状态", "参保地", "人员类别", "人员编号", "手机号"]


def person_row(id_number=None, name="张伟", itype="职工基本医疗保险", status="正常参保", region="320500", **extra):
    return [
        id_number or factories.id_number(region_code="320502"),
        name,
        itype,
        status,
        region,
        extra.get("category", "在职"),
        extra.get("person_no", ""),
        extra.get("phone", ""),
    ]


def unique_id_numbers(count: int, *, region_code: str = "320502", start=None):
    """`count` distinct valid ID numbers: 1,000 serials per birth date, one birth date after another."""
    import datetime

    from accounts.id_numbers import check_character

    start = start or datetime.date(1960, 1, 1)
    for i in range(count):
        birth = start + datetime.timedelta(days=i // 1000)
        first17 = f"{region_code}{birth:%Y%m%d}{i % 1000:03d}"
        yield first17 + check_character(first17)
