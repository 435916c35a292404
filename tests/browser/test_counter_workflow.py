"""A clerk at the counter, in a real browser: log in, find a person by ID number, see why a family cannot
share, bind a member with a scanned promise letter, print the receipt, see a refusal with its reasons, and
unbind. Screenshots go to docs/screenshots/."""

import pytest

from bindings.models import Authorization, AuthorizationStatus, FamilyLink
from tests import factories
from tests.browser.conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_counter_login_search_and_diagnosis(page, live_server, staff_groups):
    factories.staff_user(factories.COUNTER_GROUP, username="clerk_zhang")
    factories.policy("320000")
    grantor = factories.grantor(name="王建国")
    mother = factories.resident(name="李秀英")
    FamilyLink.objects.create(owner=grantor, relative=mother, kinship="parent", verification="household_register")

    login(page, live_server, "clerk_zhang", shot="counter_login.png")
    page.goto(f"{live_server.url}/admin/accounts/person/")
    page.fill("#searchbar", mother.id_number)
    screenshot(page, "counter_person_search.png")
    page.press("#searchbar", "Enter")  # an ID number goes through the POST box, straight to the person
    page.wait_for_selector("#diagnosis")
    assert page.url.endswith(f"/admin/accounts/person/{mother.pk}/change/")
    assert mother.id_number not in page.url
    panel = page.locator("#diagnosis").inner_text()
    assert "为什么不能共济？" in panel
    assert "FAMILY_ACCOUNT_ONLY" in panel
    page.locator("#diagnosis").scroll_into_view_if_needed()
    screenshot(page, "person_diagnosis.png")


def test_counter_binds_with_upload_prints_receipt_and_unbinds(page, live_server, staff_groups, promise_pdf):
    factories.staff_user(factories.COUNTER_GROUP, username="clerk_li")
    factories.policy("320000")
    grantor = factories.grantor(name="王建国")
    mother = factories.resident(name="李秀英")

    login(page, live_server, "clerk_li")
    page.goto(f"{live_server.url}/admin/accounts/person/{grantor.pk}/change/")
    page.click("text=办理家庭共济绑定")
    page.wait_for_selector("#bind-form")
    assert page.input_value("#id_grantor_id_number") == grantor.id_number
    page.fill("#id_member_id_number", mother.id_number)
    page.select_option("#id_kinship", "parent")
    page.click("#check-button")
    page.wait_for_selector("#check-result")
    assert "符合全部条件" in page.locator("#check-result").inner_text()
    page.set_input_files("#id_promise_letter", str(promise_pdf))
    screenshot(page, "counter_bind_check.png")

    page.click("#submit-button")
    page.wait_for_selector("#receipt")
    receipt = page.locator("#receipt").inner_text()
    assert "家庭共济绑定回执" in receipt
    assert grantor.id_number not in receipt and grantor.id_number[:6] in receipt
    screenshot(page, "counter_receipt.png")
    authorization = Authorization.objects.get(grantor=grantor, member=mother)
    assert authorization.status == AuthorizationStatus.ACTIVE
    assert authorization.documents.count() == 1

    page.click("text=返回共济授权")
    page.wait_for_selector("#documents")
    assert "签字承诺书" in page.locator("#documents").inner_text()
    screenshot(page, "counter_authorization.png")
    page.click(".object-tools >> text=解除绑定")
    page.fill("#id_reason", "主账户人申请解除")
    page.click("#unbind-next")
    page.wait_for_selector("#confirm-unbind")
    screenshot(page, "counter_unbind_confirm.png")
    page.click("#confirm-unbind")
    page.wait_for_selector(".messagelist")
    assert "共济授权已解除" in page.locator(".messagelist").inner_text()
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.REVOKED


def test_counter_sees_every_reason_of_a_refusal(page, live_server, staff_groups):
    factories.staff_user(factories.COUNTER_GROUP, username="clerk_wang")
    factories.policy("320000")
    factories.region("360100", "南昌市")
    broke = factories.person(name="周大海", balance=0)
    outsider = factories.resident(name="吴远", region_code="360100")

    login(page, live_server, "clerk_wang")
    page.goto(f"{live_server.url}/admin/bindings/authorization/bind/")
    page.fill("#id_grantor_id_number", broke.id_number)
    page.fill("#id_member_id_number", outsider.id_number)
    page.select_option("#id_kinship", "other")
    page.click("#check-button")
    page.wait_for_selector("#check-result")
    text = page.locator("#check-result").inner_text()
    for code in ("GRANTOR_BALANCE_ZERO", "RELATION_NOT_ALLOWED", "REGION_OUT_OF_SCOPE"):
        assert code in text
    assert "不能办理绑定" in text
    assert page.locator("#id_promise_letter").count() == 0
    screenshot(page, "counter_bind_refused.png")
