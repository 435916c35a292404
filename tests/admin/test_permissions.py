"""Who may do what: counter staff (窗口经办) bind, unbind, confirm and add documents; supervisors (业务主管) also
edit policies; auditors (稽核) see everything and change nothing (403 on every counter screen)."""

import csv
import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import LedgerEntry
from bindings.models import Authorization, AuthorizationStatus, Policy
from tests import factories
from tests.admin.conftest import pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def bound(family):
    grantor, mother, wife = family
    active = factories.authorization(grantor, mother, "parent")
    pending = factories.authorization(grantor, wife, "spouse")
    assert pending.status == AuthorizationStatus.PENDING_CONFIRMATION
    return active, pending


def counter_urls(active, pending):
    return [
        ("get", reverse("admin:bindings_authorization_bind"), {}),
        ("post", reverse("admin:bindings_authorization_bind"), {"action": "check"}),
        ("get", reverse("admin:bindings_authorization_unbind", args=[active.pk]), {}),
        ("post", reverse("admin:bindings_authorization_unbind", args=[active.pk]), {"reason": "x", "confirmed": "1"}),
        ("get", reverse("admin:bindings_authorization_bulk_unbind"), {"grantor": active.grantor_id}),
        ("post", reverse("admin:bindings_authorization_confirm", args=[pending.pk]),
         {"decision": "accept", "identity_checked": "on"}),
        ("get", reverse("admin:bindings_authorization_document_add", args=[active.pk]), {}),
    ]


def test_auditor_gets_403_on_every_counter_screen(auditor, bound):
    active, pending = bound
    for method, url, data in counter_urls(active, pending):
        response = getattr(auditor, method)(url, data)
        assert response.status_code == 403, url
    active.refresh_from_db()
    pending.refresh_from_db()
    assert active.status == AuthorizationStatus.ACTIVE
    assert pending.status == AuthorizationStatus.PENDING_CONFIRMATION


def test_auditor_sees_authorizations_without_change_buttons(auditor, bound):
    active, pending = bound
    html = auditor.get(reverse("admin:bindings_authorization_change", args=[pending.pk])).content.decode()
    assert "回执" in html  # read access
    for label in ("解除绑定", "配偶确认（窗口当面）", "补充材料", 'name="_save"'):
        assert label not in html
    listing = auditor.get(reverse("admin:bindings_authorization_changelist")).content.decode()
    assert "办理家庭共济绑定" not in listing
    assert "unbind_selected" not in listing


def test_auditor_may_read_documents_and_receipts(auditor, bound):
    active, _pending = bound
    assert auditor.get(reverse("admin:bindings_authorization_receipt", args=[active.pk])).status_code == 200


def test_counter_sees_the_buttons(counter, bound):
    active, pending = bound
    html = counter.get(reverse("admin:bindings_authorization_change", args=[pending.pk])).content.decode()
    for label in ("解除绑定", "配偶确认（窗口当面）", "补充材料", "回执"):
        assert label in html
    assert counter.get(reverse("admin:bindings_authorization_bind")).status_code == 200


def test_counter_binds(counter, family):
    grantor, mother, _wife = family
    response = counter.post(
        reverse("admin:bindings_authorization_bind"),
        {"grantor_id_number": grantor.id_number, "member_id_number": mother.id_number, "kinship": "parent",
         "action": "submit", "promise_letter": pdf()},
    )
    assert response.status_code == 302
    assert Authorization.objects.filter(grantor=grantor, member=mother, status="active").exists()


def test_nobody_edits_or_deletes_authorizations_through_the_generic_form(supervisor, bound):
    active, _pending = bound
    assert supervisor.get(reverse("admin:bindings_authorization_add")).status_code == 403
    assert supervisor.get(reverse("admin:bindings_authorization_delete", args=[active.pk])).status_code == 403
    response = supervisor.post(reverse("admin:bindings_authorization_change", args=[active.pk]), {"status": "revoked"})
    assert response.status_code == 403


def policy_data(policy, **changes):
    data = {
        "region": policy.region_id,
        "effective_from": policy.effective_from.isoformat(),
        "kinships": list(policy.kinships),
        "scope": policy.scope,
        "spouse_confirmation": "on" if policy.spouse_confirmation else "",
        "single_relationship": "on" if policy.single_relationship else "",
        "note": policy.note,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v != ""}


def test_supervisor_edits_a_policy(supervisor, jiangsu_policy):
    url = reverse("admin:bindings_policy_change", args=[jiangsu_policy.pk])
    response = supervisor.post(url, policy_data(jiangsu_policy, kinships=["spouse", "parent", "child"],
                                                note="苏医保 2024"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    jiangsu_policy.refresh_from_db()
    assert jiangsu_policy.kinships == ["spouse", "parent", "child"]
    response = supervisor.post(
        reverse("admin:bindings_policy_add"),
        policy_data(jiangsu_policy, effective_from=datetime.date(2026, 1, 1).isoformat(), note="2026"),
    )
    assert response.status_code == 302
    assert Policy.objects.count() == 2


def test_r5_supervisor_narrowing_the_policy_in_force_is_told_how_many_authorizations_stop_paying(
    supervisor, jiangsu_policy
):
    factories.authorization(factories.grantor(), factories.resident(), "sibling")
    factories.authorization(factories.grantor(), factories.resident(), "parent")
    url = reverse("admin:bindings_policy_change", args=[jiangsu_policy.pk])
    response = supervisor.post(url, policy_data(jiangsu_policy, kinships=["spouse", "parent", "child"]), follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert any("1 条现有共济授权的亲属关系已不在允许范围内" in m for m in shown), shown
    response = supervisor.post(url, policy_data(jiangsu_policy, note="只改备注"), follow=True)
    assert not any("不在允许范围内" in str(m) for m in response.context["messages"])


def test_policy_form_never_allows_in_laws(supervisor, jiangsu_policy):
    url = reverse("admin:bindings_policy_change", args=[jiangsu_policy.pk])
    response = supervisor.post(url, policy_data(jiangsu_policy, kinships=["spouse", "other"]))
    assert response.status_code == 200
    jiangsu_policy.refresh_from_db()
    assert "other" not in jiangsu_policy.kinships


@pytest.mark.parametrize("who", ["counter", "auditor"])
def test_counter_and_auditor_cannot_edit_policies(request, jiangsu_policy, who):
    client = request.getfixturevalue(who)
    url = reverse("admin:bindings_policy_change", args=[jiangsu_policy.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    response = client.post(url, policy_data(jiangsu_policy, kinships=["spouse"]))
    assert response.status_code == 403
    assert client.get(reverse("admin:bindings_policy_add")).status_code == 403
    jiangsu_policy.refresh_from_db()
    assert len(jiangsu_policy.kinships) > 1


def test_policies_are_never_deleted(supervisor, jiangsu_policy):
    assert supervisor.get(reverse("admin:bindings_policy_delete", args=[jiangsu_policy.pk])).status_code == 403


def test_supervisor_edits_regions_counter_cannot(supervisor, client, region_suzhou):
    url = reverse("admin:accounts_region_change", args=["320500"])
    assert supervisor.post(url, {"code": "320500", "name": "苏州"}).status_code == 302
    client.force_login(factories.staff_user(factories.COUNTER_GROUP))
    assert client.post(url, {"code": "320500", "name": "姑苏"}).status_code == 403


def test_family_link_form_checks_the_proof_against_age(counter, family):
    grantor, mother, _wife = family
    child = factories.resident(name="王小宝", birth=datetime.date.today() - datetime.timedelta(days=365 * 8))
    url = reverse("admin:bindings_familylink_add")
    response = counter.post(url, {"owner_id_number": grantor.id_number, "relative_id_number": child.id_number,
                                  "kinship": "child", "verification": "face"})
    assert response.status_code == 200
    assert "16周岁及以下" in response.content.decode()
    response = counter.post(url, {"owner_id_number": grantor.id_number, "relative_id_number": child.id_number,
                                  "kinship": "child", "verification": "birth_certificate"})
    assert response.status_code == 302
    response = counter.post(url, {"owner_id_number": grantor.id_number, "relative_id_number": mother.id_number,
                                  "kinship": "parent", "verification": "birth_certificate"})
    assert "已超过16周岁" in response.content.decode()


def test_family_link_only_shows_up_in_the_diagnosis(counter, family):
    from bindings.models import FamilyLink

    grantor, mother, _wife = family
    FamilyLink.objects.create(owner=grantor, relative=mother, kinship="parent", verification="household_register")
    html = counter.get(reverse("admin:accounts_person_change", args=[mother.pk])).content.decode()
    assert "FAMILY_ACCOUNT_ONLY" in html


def test_auditor_may_open_documents_and_the_opening_is_logged(auditor, family):
    from bindings.models import AuthorizationDocument, DocumentAccess
    from bindings.services import DocumentUpload

    grantor, mother, _wife = family
    authorization = factories.authorization(grantor, mother, "parent", channel="counter",
                                            documents=[DocumentUpload(kind="promise_letter", file=pdf())])
    document = AuthorizationDocument.objects.get(authorization=authorization)
    response = auditor.get(reverse("admin:bindings_document_file", args=[document.pk]))
    assert response.status_code == 200
    assert DocumentAccess.objects.filter(document=document, user=auditor.user).count() == 1


def test_supervisor_imports_account_credits_from_the_ledger_page(supervisor, tmp_path):
    """Issue 2 / imports.md: credits have an admin import page too (upload → preview → confirm), with the rules of
    `import_data credits`; it appends ledger entries, so only supervisors (add_ledgerentry) see it."""
    person = factories.person(name="王建国")
    url = reverse("admin:accounts_ledgerentry_import")
    changelist = supervisor.get(reverse("admin:accounts_ledgerentry_changelist"))
    assert url in changelist.content.decode()
    path = tmp_path / "credits.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        header = ["流水号", "身份证号", "金额", "类型", "入账日期"]
        csv.writer(handle).writerows([header, ["A-001", person.id_number, "120.00", "划入", "2025-01-31"]])
    with path.open("rb") as handle:
        preview = supervisor.post(url, {"file": handle})
    assert preview.status_code == 200 and "新增 1、更新 0、未变 0、错误 0" in preview.content.decode()
    assert not LedgerEntry.objects.filter(reference="A-001").exists()  # the preview is a dry run
    assert supervisor.post(url, {"token": preview.context["token"]}).status_code == 302
    entry = LedgerEntry.objects.get(reference="A-001")
    assert (entry.amount, entry.balance_after) == (Decimal("120.00"), Decimal("120.00"))
    assert entry.created_by == supervisor.user


@pytest.mark.parametrize("group", [factories.COUNTER_GROUP, factories.AUDITOR_GROUP])
def test_only_supervisors_import_account_credits(client, db, group):
    user = factories.staff_user(group)
    client.force_login(user)
    assert client.get(reverse("admin:accounts_ledgerentry_import")).status_code == 403
    changelist = client.get(reverse("admin:accounts_ledgerentry_changelist"))
    assert changelist.status_code == 200
    assert reverse("admin:accounts_ledgerentry_import") not in changelist.content.decode()


@pytest.mark.parametrize("group", [factories.COUNTER_GROUP, factories.AUDITOR_GROUP])
def test_read_only_policy_page_names_the_kinships_in_chinese(client, jiangsu_policy, group):
    """Counter staff answer "may I bind my brother?" from this page: the kinships in Chinese, not ["spouse", ...]."""
    client.force_login(factories.staff_user(group))
    html = client.get(reverse("admin:bindings_policy_change", args=[jiangsu_policy.pk])).content.decode()
    assert "配偶、父母、子女" in html
    assert '"spouse"' not in html and "&quot;spouse&quot;" not in html


def test_supervisor_still_edits_the_kinships_as_checkboxes(supervisor, jiangsu_policy):
    html = supervisor.get(reverse("admin:bindings_policy_change", args=[jiangsu_policy.pk])).content.decode()
    assert 'name="kinships" value="spouse"' in html
