"""Volume smoke: 20,000 rows in a bounded number of queries (chunked lookups, bulk writes), on both databases."""

import datetime

import pytest

from accounts.models import LedgerEntry, Person, PersonalAccount
from tests.imports.conftest import PERSON_HEADER, unique_id_numbers

pytestmark = pytest.mark.django_db

ROWS = 20_000


def test_large_roster_bounded_queries(importer, regions, django_assert_max_num_queries):
    rows = [PERSON_HEADER]
    for i, idn in enumerate(unique_id_numbers(ROWS)):
        rows.append([idn, f"姓名{i}", "310" if i % 3 else "390", "正常参保", "320500", "", "", ""])
    path = importer.file(rows)
    with django_assert_max_num_queries(40):
        out = importer.ok("persons", path)
    assert f"新增 {ROWS}、更新 0、未变 0、错误 0" in out
    assert Person.objects.count() == ROWS
    assert PersonalAccount.objects.count() == ROWS - len(range(0, ROWS, 3))
    with django_assert_max_num_queries(20):
        out = importer.ok("persons", path)
    assert f"新增 0、更新 0、未变 {ROWS}、错误 0" in out


def test_large_credit_file_bounded_queries(importer, regions, django_assert_max_num_queries):
    ids = list(unique_id_numbers(2_000, start=datetime.date(1970, 1, 1)))
    importer.ok("persons", [PERSON_HEADER] + [[idn, "某人", "310", "正常参保", "320500", "", "", ""] for idn in ids])
    rows = [["流水号", "身份证号", "金额", "类型", "入账日期"]]
    rows += [[f"R{i:06d}", ids[i % len(ids)], "10.00", "划入", "2025-01-01"] for i in range(ROWS)]
    with django_assert_max_num_queries(60):
        out = importer.ok("credits", importer.file(rows))
    assert f"新增 {ROWS}" in out
    assert LedgerEntry.objects.count() == ROWS
    assert {a.balance for a in PersonalAccount.objects.all()} == {100}
