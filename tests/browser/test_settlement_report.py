"""A counter clerk opens a grantor's expenditure details, exports them and opens the printable statement
(支出明细单) in headless Chromium. Screenshots go to docs/screenshots/settlements_*.png."""

import csv
import io
from pathlib import Path

import pytest

from bindings.models import Kinship
from tests import factories
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import _api
from tests.settlements.helpers import settle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def ensure_staff_groups():
    """The staff groups come from a data migration; an earlier transactional test's flush removes them."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group

    if not Group.objects.filter(name=factories.COUNTER_GROUP).exists():
        importlib.import_module("accounts.migrations.0004_staff_groups").create_groups(apps, None)


@pytest.fixture
def statement_data(region_suzhou):
    ensure_staff_groups()
    factories.policy("320000", spouse_confirmation=False)
    institution = factories.institution(code="H32050001", region=region_suzhou)
    api = _api("institution", institution=institution)
    grantor = factories.grantor(name="王建国", balance="2000.00")
    mother = factories.resident(name="李秀英")
    son = factories.resident(name="王小明")
    factories.authorization(grantor, mother, Kinship.PARENT)
    factories.authorization(grantor, son, Kinship.CHILD)
    first = settle(api, mother, total="320.00", fund="200.00").json()
    settle(api, son, total="88.50", fund="0.00", category="vaccine")
    settle(api, mother, total="45.00", fund="10.00")
    api.post(f"/api/v1/settlements/{first['id']}/reversal")
    clerk = factories.staff_user(factories.COUNTER_GROUP, username="clerk_report")
    return grantor, clerk


def test_clerk_reads_exports_and_prints_expenditure(live_server, statement_data, browser):
    """Uses the package's one Chromium (tests/browser/conftest.py): Playwright's sync API cannot be started twice."""
    grantor, clerk = statement_data
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(accept_downloads=True, viewport={"width": 1366, "height": 900}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/?next=/admin/settlements/settlement/expenditure/")
        page.fill("#id_username", clerk.username)
        page.fill("#id_password", "Passw0rd!2026")
        page.click("input[type=submit]")
        page.wait_for_selector("#expenditure-form")

        page.fill("#id_grantor", grantor.id_number)
        page.click("#search-button")
        page.wait_for_selector("#report-totals")
        assert page.inner_text("#net-total") == "123.50"  # 120.00 + 88.50 + 35.00 − 120.00 refunded
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 4
        assert grantor.id_number not in page.content()
        page.screenshot(path=str(SCREENSHOTS / "settlements_expenditure_report.png"), full_page=True)

        with page.expect_download() as download_info:
            page.click("#export-csv")
        download = download_info.value
        text = Path(download.path()).read_bytes().decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
        assert lines[0][0] == "结算ID" and len(lines) == 5
        assert sorted(line[9] for line in lines[1:]) == sorted(["-120.00", "35.00", "88.50", "120.00"])

        with page.expect_download() as xlsx_info:
            page.click("#export-xlsx")
        assert xlsx_info.value.suggested_filename.endswith(".xlsx")

        statement = context.new_page()
        href = page.locator("#print-link").get_attribute("href")  # relative: print/?grantor=...
        statement.goto(page.url.split("?")[0] + href)
        statement.wait_for_selector("#statement")
        assert statement.inner_text("#statement-total") == "123.50"
        statement.screenshot(path=str(SCREENSHOTS / "settlements_statement.png"), full_page=True)
        statement.emulate_media(media="print")
        assert not statement.locator("#header").is_visible()
        statement.screenshot(path=str(SCREENSHOTS / "settlements_statement_print.png"), full_page=True)
    finally:
        context.close()
