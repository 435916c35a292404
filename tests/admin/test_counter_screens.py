"""Counter screens: bind (check → documents → receipt), refusals with every reason, unbind, bulk unbind,
spouse confirmation on site, adding and opening documents."""

import pytest
from django.urls import reverse
from django.utils import translation

from accounts.id_numbers import mask_id_number
from accounts.reasons import Reason
from bindings.models import (
    AuditAction,
    Authorization,
    AuthorizationDocument,
    AuthorizationStatus,
    Channel,
    DocumentAccess,
    DocumentKind,
)
from tests import factories
from tests.admin.conftest import pdf

pytestmark = pytest.mark.django_db
BIND = "admin:bindings_authorization_bind"


def chinese(code):
    with translation.override("zh-hans"):
        return Reason.of(code).message


def bind_data(grantor, member, kinship="parent", **extra):
    return {"grantor_id_number": grantor.id_number, "member_id_number": member.id_number, "kinship": kinship,
            "valid_from": "", "valid_to": "", **extra}


def test_bind_check_then_upload_creates_an_active_authorization(counter, family):
    grantor, mother, _wife = family
    response = counter.post(reverse(BIND), bind_data(grantor, mother, action="check"))
    assert response.status_code == 200
    assert response.context["step"] == "documents"
    html = response.content.decode()
    assert "符合全部条件" in html and 'name="promise_letter"' in html

    response = counter.post(
        reverse(BIND),
        bind_data(grantor, mother, action="submit", promise_letter=pdf(), proof_kind="household_register",
                  proof_file=pdf("hukou.pdf")),
    )
    authorization = Authorization.objects.get(grantor=grantor, member=mother)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:bindings_authorization_receipt", args=[authorization.pk])
    assert authorization.status == AuthorizationStatus.ACTIVE
    assert authorization.channel == Channel.COUNTER
    assert authorization.created_by == counter.user
    kinds = sorted(authorization.documents.values_list("kind", flat=True))
    assert kinds == [DocumentKind.HOUSEHOLD_REGISTER, DocumentKind.PROMISE_LETTER]
    actions = list(authorization.events.values_list("action", "channel"))
    assert (AuditAction.CREATE, Channel.COUNTER) in actions
    assert actions.count((AuditAction.DOCUMENT_ADDED, Channel.COUNTER)) == 2


def test_receipt_masks_id_numbers(counter, family):
    grantor, mother, _wife = family
    authorization = factories.authorization(grantor, mother, "parent", channel=Channel.COUNTER,
                                            documents=[_upload()], acting_user=counter.user)
    html = counter.get(reverse("admin:bindings_authorization_receipt", args=[authorization.pk])).content.decode()
    assert "家庭共济绑定回执" in html
    assert mask_id_number(grantor.id_number) in html and mask_id_number(mother.id_number) in html
    assert grantor.id_number not in html and mother.id_number not in html
    assert "@media print" in html


def test_receipt_says_what_the_authorization_is_now(counter, family):
    """The receipt printed after an unbinding is an unbinding receipt (with the end and its reason); a spouse's binding
    waiting for confirmation says it is not yet in effect; an end entered as an inclusive date shows that date."""
    import datetime

    from django.utils import timezone

    from bindings.services import authorization_revoke

    grantor, mother, wife = family
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + datetime.timedelta(days=31)
    authorization = factories.authorization(grantor, mother, "parent", channel=Channel.COUNTER, valid_to=midnight,
                                            documents=[_upload()], acting_user=counter.user)  # fmt: skip
    receipt = reverse("admin:bindings_authorization_receipt", args=[authorization.pk])
    html = counter.get(receipt).content.decode()
    last_day = (midnight - datetime.timedelta(days=1)).date()
    assert "家庭共济绑定回执" in html and f"{last_day:%Y-%m-%d}（含当日）" in html
    authorization_revoke(authorization=authorization, reason="本人申请解除", channel=Channel.COUNTER)
    html = counter.get(receipt).content.decode()
    assert "家庭共济解除回执" in html and "家庭共济绑定回执" not in html and "本人申请解除" in html
    pending = factories.authorization(grantor, wife, "spouse", channel=Channel.COUNTER, documents=[_upload()],
                                      acting_user=counter.user)  # fmt: skip
    assert pending.status == AuthorizationStatus.PENDING_CONFIRMATION
    html = counter.get(reverse("admin:bindings_authorization_receipt", args=[pending.pk])).content.decode()
    assert "配偶确认后生效" in html


def _upload(kind=DocumentKind.PROMISE_LETTER):
    from bindings.services import DocumentUpload

    return DocumentUpload(kind=kind, file=pdf())


def test_check_shows_every_reason(counter, jiangsu_policy, region_nanchang):
    broke = factories.person(name="周穷", balance=0)
    outsider = factories.resident(name="吴远", region_code="360100")
    response = counter.post(reverse(BIND), bind_data(broke, outsider, kinship="other", action="check"))
    html = response.content.decode()
    assert response.context["step"] == "refused"
    codes = {"GRANTOR_BALANCE_ZERO", "RELATION_NOT_ALLOWED", "REGION_OUT_OF_SCOPE"}
    assert codes <= {r.code for r in response.context["reasons"]}
    for code in codes:
        assert code in html
        assert chinese(code).split("（")[0] in html
    assert 'name="promise_letter"' not in html  # no step 2 for a refused binding


def test_submit_refused_by_the_service_rerenders_every_reason(counter, family):
    grantor, mother, _wife = family
    factories.authorization(factories.grantor(name="王建业"), mother, "child")  # mother already has a grantor (R7)
    response = counter.post(reverse(BIND), bind_data(grantor, mother, action="submit", promise_letter=pdf()))
    assert response.status_code == 200
    assert "MEMBER_ALREADY_BOUND" in response.content.decode()
    assert not Authorization.objects.filter(grantor=grantor).exists()


def test_submit_without_promise_letter_is_refused(counter, family):
    grantor, mother, _wife = family
    response = counter.post(reverse(BIND), bind_data(grantor, mother, action="submit"))
    assert response.status_code == 200
    assert "请上传已签字的承诺书" in response.content.decode()
    assert not Authorization.objects.exists()


def test_a_household_register_alone_is_enough_at_the_counter(counter, family):
    """R10: "the household register, marriage certificate or a signed promise letter" (domain.md), as the rules
    engine counts them (services.PROMISE_KINDS): a grantor who brings the hukou and no letter is served."""
    grantor, mother, _wife = family
    response = counter.post(
        reverse(BIND),
        bind_data(grantor, mother, action="submit", proof_kind="household_register", proof_file=pdf("hukou.pdf")),
    )
    assert response.status_code == 302
    authorization = Authorization.objects.get(grantor=grantor, member=mother)
    assert list(authorization.documents.values_list("kind", flat=True)) == [DocumentKind.HOUSEHOLD_REGISTER]


def test_an_id_card_alone_does_not_prove_the_relation(counter, family):
    grantor, mother, _wife = family
    response = counter.post(
        reverse(BIND), bind_data(grantor, mother, action="submit", proof_kind="id_card", proof_file=pdf("id.pdf"))
    )
    assert response.status_code == 200
    assert "身份证、社保卡不能证明亲属关系" in response.content.decode()
    assert not Authorization.objects.exists()


def test_submit_refuses_a_file_that_is_not_a_pdf_or_image(counter, family):
    from django.core.files.uploadedfile import SimpleUploadedFile

    grantor, mother, _wife = family
    fake = SimpleUploadedFile("promise.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = counter.post(reverse(BIND), bind_data(grantor, mother, action="submit", promise_letter=fake))
    assert response.status_code == 200
    assert "只接受 PDF、JPEG 或 PNG" in response.content.decode()
    assert not Authorization.objects.exists()


def test_unknown_id_number_is_a_form_error(counter, family):
    grantor, _mother, _wife = family
    data = bind_data(grantor, grantor, action="check")
    data["member_id_number"] = factories.id_number()
    response = counter.post(reverse(BIND), data)
    assert "未找到该身份证号对应的参保人员" in response.content.decode()


def test_spouse_confirmed_on_site_while_binding_is_active_at_once(counter, family):
    grantor, _mother, wife = family
    response = counter.post(
        reverse(BIND),
        bind_data(grantor, wife, kinship="spouse", action="submit", promise_letter=pdf(),
                  spouse_confirmed_on_site="on"),
    )
    assert response.status_code == 302
    authorization = Authorization.objects.get(grantor=grantor, member=wife)
    assert authorization.status == AuthorizationStatus.ACTIVE
    assert authorization.confirmation_channel == Channel.COUNTER


def test_spouse_binding_without_the_spouse_waits_and_is_confirmed_on_site(counter, family):
    grantor, _mother, wife = family
    counter.post(reverse(BIND), bind_data(grantor, wife, kinship="spouse", action="submit", promise_letter=pdf()))
    authorization = Authorization.objects.get(grantor=grantor, member=wife)
    assert authorization.status == AuthorizationStatus.PENDING_CONFIRMATION
    url = reverse("admin:bindings_authorization_confirm", args=[authorization.pk])
    assert "配偶本人到场" in counter.get(url).content.decode()
    response = counter.post(url, {"decision": "accept"})  # identity not checked
    assert response.status_code == 200
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.PENDING_CONFIRMATION
    response = counter.post(url, {"decision": "accept", "identity_checked": "on"})
    assert response.status_code == 302
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.ACTIVE
    event = authorization.events.get(action=AuditAction.CONFIRM)
    assert event.channel == Channel.COUNTER and event.changes["confirmed_on_site"] is True
    assert event.acting_user == counter.user


def test_spouse_declines_on_site(counter, family):
    grantor, _mother, wife = family
    authorization = factories.authorization(grantor, wife, "spouse")
    url = reverse("admin:bindings_authorization_confirm", args=[authorization.pk])
    counter.post(url, {"decision": "decline", "identity_checked": "on"})
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.DECLINED


def test_unbind_requires_a_reason_and_a_confirmation(counter, family):
    grantor, mother, _wife = family
    authorization = factories.authorization(grantor, mother, "parent")
    url = reverse("admin:bindings_authorization_unbind", args=[authorization.pk])
    response = counter.post(url, {"reason": "   "})
    assert response.status_code == 200
    assert "请填写解除原因" in response.content.decode()
    response = counter.post(url, {"reason": "主账户人申请解除"})
    assert response.context["confirming"] is True
    assert "确认解除" in response.content.decode()
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.ACTIVE  # nothing happens before the confirmation
    response = counter.post(url, {"reason": "主账户人申请解除", "confirmed": "1"})
    assert response.status_code == 302
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.REVOKED
    assert authorization.end_reason == "主账户人申请解除"
    event = authorization.events.get(action=AuditAction.REVOKE)
    assert event.channel == Channel.COUNTER and event.acting_user == counter.user


def test_bulk_unbind_of_a_grantors_members(counter, jiangsu_policy):
    grantor = factories.grantor()
    first, second = factories.resident(), factories.resident(name="王小明")
    a1 = factories.authorization(grantor, first, "parent")
    a2 = factories.authorization(grantor, second, "child")
    url = reverse("admin:bindings_authorization_bulk_unbind")
    page = counter.get(url, {"grantor": grantor.pk})
    assert set(page.context["form"].fields["authorizations"].queryset) == {a1, a2}
    response = counter.post(url, {"grantor": grantor.pk, "authorizations": [a1.pk, a2.pk], "reason": ""})
    assert "请填写解除原因" in response.content.decode()
    response = counter.post(url, {"grantor": grantor.pk, "authorizations": [a1.pk, a2.pk], "reason": "家庭变故"})
    assert response.context["confirming"] is True
    assert Authorization.objects.filter(status=AuthorizationStatus.ACTIVE).count() == 2
    response = counter.post(
        url, {"grantor": grantor.pk, "authorizations": [a1.pk, a2.pk], "reason": "家庭变故", "confirmed": "1"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:accounts_person_change", args=[grantor.pk])
    for authorization in (a1, a2):
        authorization.refresh_from_db()
        assert authorization.status == AuthorizationStatus.REVOKED
        assert authorization.events.filter(action=AuditAction.REVOKE, channel=Channel.COUNTER).exists()


def test_admin_action_unbinds_the_selected_after_confirmation(counter, jiangsu_policy):
    grantor = factories.grantor()
    a1 = factories.authorization(grantor, factories.resident(), "parent")
    response = counter.post(
        reverse("admin:bindings_authorization_changelist"),
        {"action": "unbind_selected", "_selected_action": [a1.pk]},
    )
    assert response.status_code == 302
    assert reverse("admin:bindings_authorization_bulk_unbind") in response["Location"]
    url = reverse("admin:bindings_authorization_bulk_unbind")
    counter.post(url, {"ids": str(a1.pk), "authorizations": [a1.pk], "reason": "误办", "confirmed": "1"})
    a1.refresh_from_db()
    assert a1.status == AuthorizationStatus.REVOKED


def test_no_bulk_delete_action_on_authorizations(counter, family):
    response = counter.get(reverse("admin:bindings_authorization_changelist"))
    assert "delete_selected" not in response.content.decode()


def test_document_add(counter, family):
    grantor, mother, _wife = family
    authorization = factories.authorization(grantor, mother, "parent")
    url = reverse("admin:bindings_authorization_document_add", args=[authorization.pk])
    response = counter.post(url, {"kind": "household_register", "file": pdf("hukou.pdf")})
    assert response.status_code == 302
    document = authorization.documents.get()
    assert document.kind == DocumentKind.HOUSEHOLD_REGISTER
    assert authorization.events.filter(action=AuditAction.DOCUMENT_ADDED, acting_user=counter.user).exists()


def test_document_view_logs_access_and_sets_safe_headers(counter, family):
    grantor, mother, _wife = family
    authorization = factories.authorization(grantor, mother, "parent", channel=Channel.COUNTER,
                                            documents=[_upload()])
    document = AuthorizationDocument.objects.get(authorization=authorization)
    assert "private/" in document.file.name
    response = counter.get(reverse("admin:bindings_document_file", args=[document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-1.4")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert grantor.id_number not in response["Content-Disposition"]
    access = DocumentAccess.objects.get(document=document)
    assert access.user == counter.user


def test_document_access_records_the_clients_address_behind_our_proxy(counter, family, settings):
    grantor, mother, _wife = family
    authorization = factories.authorization(grantor, mother, "parent", channel=Channel.COUNTER,
                                            documents=[_upload()])  # fmt: skip
    document = AuthorizationDocument.objects.get(authorization=authorization)
    settings.TRUSTED_PROXY_COUNT = 1
    url = reverse("admin:bindings_document_file", args=[document.pk])
    response = counter.get(url, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4, 10.1.2.3")
    assert response.status_code == 200
    assert DocumentAccess.objects.get(document=document).remote_addr == "10.1.2.3"


def test_document_view_refuses_staff_without_the_permission(client, family):
    grantor, mother, _wife = family
    authorization = factories.authorization(grantor, mother, "parent", channel=Channel.COUNTER,
                                            documents=[_upload()])
    document = AuthorizationDocument.objects.get(authorization=authorization)
    client.force_login(factories.staff_user(None))
    response = client.get(reverse("admin:bindings_document_file", args=[document.pk]))
    assert response.status_code == 403
    assert not DocumentAccess.objects.exists()
    client.logout()
    response = client.get(reverse("admin:bindings_document_file", args=[document.pk]))
    assert response.status_code == 302  # to the login page
    assert not DocumentAccess.objects.exists()


def test_document_missing_from_storage_is_404_and_records_no_access(counter, family):
    grantor, mother, _wife = family
    authorization = factories.authorization(grantor, mother, "parent", channel=Channel.COUNTER,
                                            documents=[_upload()])
    document = AuthorizationDocument.objects.get(authorization=authorization)
    document.file.storage.delete(document.file.name)
    response = counter.get(reverse("admin:bindings_document_file", args=[document.pk]))
    assert response.status_code == 404
    assert not DocumentAccess.objects.exists()
