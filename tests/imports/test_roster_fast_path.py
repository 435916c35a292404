"""The roster import's fast paths (accounts.imports.roster_pg on PostgreSQL) keep the contract: 人员编号 checks,
text that needs escaping, lowercase check characters, generated numbers unique, a query count that does not
grow with the file. Tests not marked for PostgreSQL run on both databases."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.imports import roster_pg
from accounts.imports.resources import MSG_PERSON_NO_DIFFERS, MSG_PERSON_NO_TAKEN
from accounts.models import Person, PersonalAccount
from tests import factories
from tests.imports.conftest import PERSON_HEADER, person_row, unique_id_numbers

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL staged path")


def test_person_no_taken_by_someone_else_and_differing_from_the_known_one(importer, regions):
    known = factories.person(name="张伟")
    other = factories.person(name="李娜")
    newcomer = factories.id_number()
    rows = [
        PERSON_HEADER,
        person_row(newcomer, person_no=known.person_no),  # taken by another person
        person_row(other.id_number, name="李娜", person_no="320500" + "9" * 14),  # differs from the known one
    ]
    out = importer.fails("persons", rows)
    assert f"第2行 列「人员编号」：{MSG_PERSON_NO_TAKEN}" in out
    assert f"第3行 列「人员编号」：{MSG_PERSON_NO_DIFFERS.format(person_no=other.person_no)}" in out
    assert "错误 2" in out
    assert not Person.objects.filter(id_number=newcomer).exists()


def test_given_person_no_kept_and_blank_one_generated(importer, regions):
    given, blank = factories.id_number(), factories.id_number()
    out = importer.ok("persons", [PERSON_HEADER, person_row(given, person_no="P-0001"), person_row(blank)])
    assert "新增 2" in out
    assert Person.objects.get(id_number=given).person_no == "P-0001"
    generated = Person.objects.get(id_number=blank).person_no
    assert len(generated) == 20 and generated.startswith("320500") and generated.isdigit()


def test_text_needing_escapes_and_lowercase_check_character(importer, regions):
    idn = next(idn for idn in unique_id_numbers(2000, start=datetime.date(1981, 3, 1)) if idn[-1] == "X")
    name = "张\\三\t丰"
    out = importer.ok("persons", [PERSON_HEADER, person_row(idn.lower(), name=name, phone="138\\0")])
    assert "新增 1" in out
    person = Person.objects.get(id_number=idn)
    assert person.name == name and person.phone == "138\\0"
    assert "未变 1" in importer.ok("persons", [PERSON_HEADER, person_row(idn.lower(), name=name, phone="138\\0")])


def test_fast_and_generic_rows_mixed_in_one_file(importer, regions):
    """Rows the fast path refuses (short rows, spaces, English codes) go through the generic rules."""
    ids = list(unique_id_numbers(4, start=datetime.date(1977, 5, 5)))
    rows = [
        PERSON_HEADER,
        person_row(ids[0]),
        [ids[1], "王芳", "390", "正常参保", "320100"],  # short row: optional cells missing
        person_row(ids[2], category="退休", phone="+8613900000000"),
        person_row(ids[0]),  # duplicate of line 2
    ]
    out = importer.fails("persons", rows)
    assert "第5行 列「身份证号」：在文件中重复出现" in out
    assert "新增 3、更新 0、未变 0、错误 1" in out


@postgres_only
def test_generated_person_no_range_redrawn_when_a_number_is_taken(importer, regions, monkeypatch):
    ids = list(unique_id_numbers(3, start=datetime.date(1985, 1, 1)))
    placeholder = factories.person(name="占位")
    Person.objects.filter(pk=placeholder.pk).update(person_no=f"320500{5:014d}")
    draws = iter([4, 1000])  # the first range (4, 5, 6) holds the taken number 5
    monkeypatch.setattr(roster_pg.secrets, "randbelow", lambda _: next(draws))
    importer.ok("persons", [PERSON_HEADER] + [person_row(idn) for idn in ids])
    numbers = sorted(Person.objects.filter(id_number__in=ids).values_list("person_no", flat=True))
    assert numbers == [f"320500{n:014d}" for n in (1000, 1001, 1002)]


def _import_queries(importer, rows) -> int:
    path = importer.file(rows)
    with CaptureQueriesContext(connection) as ctx:
        importer.ok("persons", path)
    return len(ctx.captured_queries)


@postgres_only
def test_persons_query_count_independent_of_rows(importer, regions):
    """Fresh import, re-import, and an update of every row: the same number of queries for 200 and 5,000 rows."""
    counts = {}
    for n, start in ((200, (1950, 1, 1)), (5_000, (1970, 1, 1))):
        ids = list(unique_id_numbers(n, start=datetime.date(*start)))
        rows = [PERSON_HEADER] + [person_row(idn, itype="310" if i % 3 else "390") for i, idn in enumerate(ids)]
        changed = [PERSON_HEADER] + [person_row(idn, itype="310", status="暂停参保") for idn in ids]
        counts[n] = (
            _import_queries(importer, rows),
            _import_queries(importer, rows),
            _import_queries(importer, changed),
        )
        assert Person.objects.filter(id_number__in=ids, insurance_status="suspended").count() == n
        assert PersonalAccount.objects.filter(person__id_number__in=ids).count() == n
    assert counts[200] == counts[5_000], counts
    assert max(counts[5_000]) <= 25, counts


@postgres_only
def test_new_people_inserted_in_id_number_order_whatever_the_file_order(importer, regions):
    """The sort is skipped only when the file already ascends, the anti-join only when every row is new."""
    ids = list(unique_id_numbers(6, start=datetime.date(1988, 8, 8)))
    assert "新增 2" in importer.ok("persons", [PERSON_HEADER, person_row(ids[1]), person_row(ids[4])])
    shuffled = [ids[5], ids[1], ids[3], ids[0], ids[4], ids[2]]  # two known people, four new ones, out of order
    out = importer.ok("persons", [PERSON_HEADER] + [person_row(idn) for idn in shuffled])
    assert "新增 4、更新 0、未变 2" in out
    new = [ids[0], ids[2], ids[3], ids[5]]
    by_pk = list(Person.objects.filter(id_number__in=new).order_by("pk").values_list("id_number", flat=True))
    assert by_pk == new
    ascending = list(unique_id_numbers(3, start=datetime.date(1989, 9, 9)))
    assert "新增 3" in importer.ok("persons", [PERSON_HEADER] + [person_row(idn) for idn in ascending])
    by_pk = list(Person.objects.filter(id_number__in=ascending).order_by("pk").values_list("id_number", flat=True))
    assert by_pk == sorted(ascending)
    assert Person.objects.count() == 9
