"""Admin: read-only settlements, supervisor-only institutions, the expenditure report, exports and statement."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import LedgerEntry
from bindings.models import Kinship
from settlements.resources import ExpenditureResource, escape_cell
from settlements.selectors import expenditure_list, expenditure_totals
from tests import factories
from tests.settlements.helpers import balance, settle

pytestmark = pytest.mark.django_db

REPORT = "/admin/settlements/settlement/expenditure/"


def login(group):
    client = Client()
    client.force_login(factories.staff_user(group))
    return client


@pytest.fixture
def paid(institution_api, jiangsu_policy, region_suzhou):
    """A grantor who paid twice for his mother; the first payment reversed. A hostile institution name."""
    grantor = factories.grantor(balance="1000.00")
    member = factories.resident(name="李秀英")
    factories.authorization(grantor, member, Kinship.PARENT)
    institution = institution_api.client_obj.institution
    institution.name = '=HYPERLINK("http://evil.example","点我")'
    institution.save()
    first = settle(institution_api, member, total="100.00", fund="40.00").json()
    settle(institution_api, member, total="30.00", fund="0.00")
    institution_api.post(f"/api/v1/settlements/{first['id']}/reversal")
    return grantor, member


def test_expenditure_totals_equal_what_left_the_account(paid):
    grantor, _ = paid
    totals = expenditure_totals(grantor=grantor)
    assert totals.count == 3
    assert totals.total_amount == Decimal("30.00")
    assert (totals.payments, totals.refunds) == (Decimal("90.00"), Decimal("60.00"))
    assert Decimal("1000.00") - totals.total_amount == balance(grantor)
    assert sum(line.spent for line in expenditure_list(grantor=grantor)) == totals.total_amount


@pytest.mark.parametrize(
    "value,expected",
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("-60.00", "-60.00"),
        ("李秀英", "李秀英"),
        (Decimal("-60.00"), Decimal("-60.00")),
    ],
)
def test_escape_cell(value, expected):
    assert escape_cell(value) == expected


def test_csv_export_escapes_formulae_and_keeps_amounts(paid):
    grantor, _ = paid
    response = login(factories.COUNTER_GROUP).get(REPORT + "export/", {"grantor": grantor.person_no, "format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["结算ID", "发生时间", "类型"]
    assert len(rows) == 4
    names = {row[7] for row in rows[1:]}
    assert names == {"'" + '=HYPERLINK("http://evil.example","点我")'}
    amounts = [row[9] for row in rows[1:]]
    assert amounts == ["-60.00", "30.00", "60.00"]  # newest first: the refund came last
    assert [row[11] for row in rows[1:]] == ["否", "否", "是"]
    assert "李秀英" not in text  # names masked


def test_export_rows_are_what_django_import_export_makes_for_each_line(paid):
    """`ExpenditureResource.rows` resolves each column's exporter once; the cells are `export_resource`'s own."""
    grantor, _ = paid
    resource = ExpenditureResource()
    lines = expenditure_list(grantor=grantor)
    header, *rows = resource.rows(lines)
    assert header == resource.get_export_headers()
    assert rows == [resource.export_resource(line) for line in lines]
    assert len(rows) == 3 and rows[0][7].startswith("'=")


def test_export_reads_no_column_per_line(paid, institution_api):
    """The export loads only the columns it writes; reading one it did not load would cost a query per line."""
    grantor, member = paid

    def queries_for_export() -> int:
        with CaptureQueriesContext(connection) as queries:
            rows = list(ExpenditureResource().rows(expenditure_list(grantor=grantor)))
        assert all(row[4] == member.person_no for row in rows[1:])
        return len(queries)

    few = queries_for_export()
    for _ in range(4):
        settle(institution_api, member, total="10.00", fund="0.00")
    assert queries_for_export() == few


def test_xlsx_export_escapes_formulae(paid):
    grantor, _ = paid
    response = login(factories.AUDITOR_GROUP).get(REPORT + "export/", {"grantor": grantor.id_number, "format": "xlsx"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][0] == "结算ID"
    assert all(str(row[7]).startswith("'=") for row in rows[1:])
    assert sorted(float(row[9]) for row in rows[1:]) == [-60.0, 30.0, 60.0]


def test_report_page_and_printable_statement(paid):
    grantor, _ = paid
    client = login(factories.COUNTER_GROUP)
    page = client.get(REPORT, {"grantor": grantor.person_no})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="net-total">30.00<' in html and "export/?" in html
    assert grantor.id_number not in html
    statement = client.get(REPORT + "print/", {"grantor": grantor.person_no})
    assert statement.status_code == 200
    assert "@media print" in statement.content.decode()
    assert 'id="statement-total">30.00<' in statement.content.decode()
    missing = client.post(REPORT, {"grantor": "000000000000000000"})
    assert missing.status_code == 200 and "errorlist" in missing.content.decode()
    found = client.post(REPORT, {"grantor": grantor.id_number, "date_from": "2020-01-01"})
    assert found.status_code == 302  # the ID number travels in the body; the result is addressed by person_no
    assert grantor.id_number not in found["Location"] and grantor.person_no in found["Location"]


def test_monthly_summary_page(paid):
    response = login(factories.SUPERVISOR_GROUP).get("/admin/settlements/settlement/monthly/")
    assert response.status_code == 200
    assert "320500" in response.content.decode()


def test_monthly_summary_amounts_have_two_decimal_places(paid):
    """90.00 paid by mutual aid in the month, 60.00 of it reversed: shown as money, not as SQLite's raw sum."""
    response = login(factories.SUPERVISOR_GROUP).get("/admin/settlements/settlement/monthly/")
    (row,) = [r for r in response.context["rows"] if r.mutual_aid_settlements]
    assert (str(row.mutual_aid_amount), str(row.refunded_amount)) == ("90.00", "60.00")
    html = response.content.decode()
    assert ">90.00<" in html and ">60.00<" in html


def test_auditor_views_settlements_but_cannot_change_anything(paid, institution):
    client = login(factories.AUDITOR_GROUP)
    assert client.get("/admin/settlements/settlement/").status_code == 200
    settlement_id = LedgerEntry.objects.filter(settlement__isnull=False).first().settlement_id
    page = client.get(f"/admin/settlements/settlement/{settlement_id}/change/")
    assert page.status_code == 200 and 'type="submit"' not in page.content.decode().split('id="content-main"')[1]
    assert client.get("/admin/settlements/settlement/add/").status_code == 403
    assert client.get(f"/admin/settlements/institution/{institution.pk}/change/").status_code == 200
    response = client.post(f"/admin/settlements/institution/{institution.pk}/change/", {"name": "x"})
    assert response.status_code == 403
    assert client.get("/admin/settlements/institution/add/").status_code == 403
    assert client.get(REPORT, {"grantor": paid[0].person_no}).status_code == 200


def test_only_supervisors_change_institutions_and_catalogue(institution):
    counter = login(factories.COUNTER_GROUP)
    assert counter.get("/admin/settlements/institution/add/").status_code == 403
    assert counter.get("/admin/settlements/catalogueitem/add/").status_code == 403
    supervisor = login(factories.SUPERVISOR_GROUP)
    assert supervisor.get("/admin/settlements/institution/add/").status_code == 200
    assert supervisor.get("/admin/settlements/catalogueitem/add/").status_code == 200
    assert supervisor.get(f"/admin/settlements/institution/{institution.pk}/delete/").status_code == 403


def test_settlement_list_filters_and_masks(paid):
    _, member = paid
    client = login(factories.COUNTER_GROUP)
    html = client.get("/admin/settlements/settlement/", {"mutual_aid": "yes"}).content.decode()
    assert member.person_no in html and member.name not in html
    assert client.get("/admin/settlements/settlement/", {"category": "medical"}).status_code == 200


def test_report_needs_staff_login(paid):
    response = Client().get(REPORT)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_settlements_are_found_by_the_patient_or_grantor_person_number(paid):
    grantor, member = paid
    client = login(factories.COUNTER_GROUP)
    as_patient = client.get("/admin/settlements/settlement/", {"q": member.person_no})
    assert as_patient.status_code == 200
    assert len(as_patient.context["cl"].result_list) == 2
    as_grantor = client.get("/admin/settlements/settlement/", {"q": grantor.person_no})
    assert len(as_grantor.context["cl"].result_list) == 2
    external_id = as_patient.context["cl"].result_list[0].external_id
    by_id = client.get("/admin/settlements/settlement/", {"q": external_id})
    assert [s.external_id for s in by_id.context["cl"].result_list] == [external_id]
    assert "人员编号" in as_patient.content.decode()


def test_monthly_summary_counts_relationships_in_effect_during_that_month(jiangsu_policy, region_suzhou):
    """A past month's relationships are those in effect then, judged from the dates each authorization keeps: one
    revoked since still counts for the month, one made after it or ended before it does not, nor a spouse's binding
    never confirmed (R11) or declined."""
    from bindings.models import Authorization
    from bindings.services import authorization_confirm, authorization_revoke
    from settlements.selectors import month_bounds, monthly_summary_by_region

    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    start, end = month_bounds(last_month)

    def made(grantor, member, kinship, *, began, ended=None):
        authorization = factories.authorization(grantor, member, kinship)
        Authorization.objects.filter(pk=authorization.pk).update(valid_from=began, created_at=began, ended_at=ended)
        return authorization

    in_month = start + datetime.timedelta(days=3)
    revoked_since = made(factories.grantor(), factories.resident(), Kinship.PARENT, began=in_month)
    authorization_revoke(authorization=revoked_since, reason="本人申请", channel="app")  # ended now, after the month
    made(factories.grantor(), factories.resident(), Kinship.CHILD, began=end + datetime.timedelta(hours=1))
    long_ago = start - datetime.timedelta(days=40)
    ended_before = made(factories.grantor(), factories.resident(), Kinship.PARENT, began=long_ago)
    day_before = start - datetime.timedelta(days=1)
    Authorization.objects.filter(pk=ended_before.pk).update(status="revoked", ended_at=day_before)
    pending = made(factories.grantor(), factories.person(balance="0.00"), Kinship.SPOUSE, began=in_month)
    declined = made(factories.grantor(), factories.person(balance="0.00"), Kinship.SPOUSE, began=in_month)
    authorization_confirm(authorization=declined, accept=False, channel="app")
    assert (pending.status, Authorization.objects.get(pk=declined.pk).status) == ("pending_confirmation", "declined")

    rows = {row.region_code: row for row in monthly_summary_by_region(month=last_month)}
    assert rows["320500"].active_relationships == 1 and rows["320500"].active_authorizations == 1


def test_expenditure_report_says_a_reversed_range_once(paid):
    grantor, _ = paid
    page = login(factories.COUNTER_GROUP).get(
        "/admin/settlements/settlement/expenditure/",
        {"grantor": grantor.person_no, "date_from": "2026-02-01", "date_to": "2026-01-01"},
    )
    assert page.content.decode().count("截止日期早于起始日期") == 1


def test_monthly_summary_has_a_total_row(paid, region_nanjing):
    """Two regions' rows and their total: the grantors' relationships, settlements, mutual-aid amounts added up."""
    other = factories.grantor(balance="100.00", region_code="320100")
    factories.authorization(other, factories.resident(region_code="320100"), Kinship.PARENT)
    response = login(factories.SUPERVISOR_GROUP).get("/admin/settlements/settlement/monthly/")
    rows, total = response.context["rows"], response.context["total"]
    assert len(rows) == 2 and total.active_relationships == 2 == sum(r.active_relationships for r in rows)
    assert (str(total.mutual_aid_amount), str(total.refunded_amount)) == ("90.00", "60.00")
    html = response.content.decode()
    assert 'id="monthly-total"' in html and "合计" in html
