"""Counter screens (窗口经办) of the mutual-aid admin: bind, receipt, unbind, bulk unbind, spouse confirmation on
site, adding a document, and the private document view.

Each view is mounted by AuthorizationAdmin.get_urls() inside admin_site.admin_view (staff login), checks its own
permission (403 otherwise), and only calls bindings.services (style.md #6).
"""

import datetime
from collections import defaultdict

from django.contrib import messages
from django.contrib.admin import site as default_site
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.admin import masked_person
from accounts.client_address import client_address
from accounts.models import Person
from accounts.reasons import BusinessRuleError
from bindings.forms import (
    BindDocumentsForm,
    BindForm,
    BulkUnbindForm,
    ChangePeriodForm,
    ConfirmOnSiteForm,
    DocumentAddForm,
    UnbindForm,
)
from bindings.models import (
    LIVE_STATUSES,
    Authorization,
    AuthorizationDocument,
    AuthorizationStatus,
    Channel,
)
from bindings.rules import BINDING_CHECKS, Proposal, check_r10_promise, evaluate_binding
from bindings.selectors import authorization_history
from bindings.services import (
    DocumentUpload,
    authorization_change_period,
    authorization_confirm,
    authorization_create,
    authorization_revoke,
    authorizations_revoke_for_grantor,
    document_add,
    document_open,
)

ADD = "bindings.add_authorization"
CHANGE = "bindings.change_authorization"
VIEW = "bindings.view_authorization"
ADD_DOCUMENT = "bindings.add_authorizationdocument"
VIEW_FILE = "bindings.view_document_file"
# Step 1 tells everything that can be judged before the papers are scanned (R10 is step 2).
CHECKS_BEFORE_DOCUMENTS = tuple(c for c in BINDING_CHECKS if c is not check_r10_promise)


def require(request, *perms):
    if not all(request.user.has_perm(p) for p in perms):
        raise PermissionDenied


def context(request, title, admin_site=None, **extra):
    site = admin_site or default_site
    return {
        **site.each_context(request),
        "title": title,
        "opts": Authorization._meta,
        "app_label": "bindings",
        **extra,
    }


def authorization_summary(authorization: Authorization) -> dict:
    return {
        "grantor": masked_person(authorization.grantor),
        "member": masked_person(authorization.member),
    }


def change_url(authorization: Authorization) -> str:
    return reverse("admin:bindings_authorization_change", args=[authorization.pk])


# --- 办理家庭共济绑定 -----------------------------------------------------------------------------------


def bind_view(request, admin_site=None):
    """Step 1 "检查": every reason the binding would be refused; step 2: papers and submit."""
    require(request, ADD)
    step = "input"
    evaluation = None
    documents_form = BindDocumentsForm()
    refusal = None
    initial = {}
    grantor_pk = request.GET.get("grantor")
    if grantor_pk and grantor_pk.isdigit():
        prefill = Person.objects.filter(pk=grantor_pk).only("id_number").first()
        if prefill is not None:
            initial["grantor_id_number"] = prefill.id_number
    form = BindForm(initial=initial)

    if request.method == "POST":
        action = request.POST.get("action", "check")
        form = BindForm(request.POST)
        if action == "edit":
            form = BindForm(initial={k: request.POST.get(k, "") for k in BindForm.base_fields})
        elif form.is_valid():
            valid_from, valid_to = form.window()
            proposal = Proposal(
                grantor=form.grantor, member=form.member, kinship=form.cleaned_data["kinship"],
                channel=Channel.COUNTER, valid_from=valid_from, valid_to=valid_to, at=timezone.now(),
            )
            evaluation = evaluate_binding(proposal, checks=CHECKS_BEFORE_DOCUMENTS)
            step = "documents" if evaluation.allowed else "refused"
            if action == "submit":
                documents_form = BindDocumentsForm(request.POST, request.FILES)
                if documents_form.is_valid():
                    try:
                        authorization = authorization_create(
                            grantor=form.grantor,
                            member=form.member,
                            kinship=form.cleaned_data["kinship"],
                            channel=Channel.COUNTER,
                            valid_from=valid_from,
                            valid_to=valid_to,
                            documents=documents_form.uploads(),
                            spouse_confirmed_on_site=documents_form.cleaned_data["spouse_confirmed_on_site"],
                            acting_user=request.user,
                        )
                    except BusinessRuleError as error:
                        refusal = error.reasons
                        step = "refused"
                    except ValidationError as error:
                        for message in error.messages:
                            documents_form.add_error(None, message)
                    else:
                        messages.success(request, _("The family mutual-aid binding was filed."))
                        return redirect("admin:bindings_authorization_receipt", authorization.pk)
    reasons = refusal if refusal is not None else (evaluation.reasons if evaluation else [])
    return TemplateResponse(
        request,
        "admin/bindings/authorization/bind.html",
        context(
            request,
            _("Bind family members"),
            admin_site,
            form=form,
            documents_form=documents_form,
            step=step,
            evaluation=evaluation,
            reasons=reasons,
            grantor=getattr(form, "grantor", None),
            member=getattr(form, "member", None),
            grantor_display=masked_person(getattr(form, "grantor", None)) if hasattr(form, "grantor") else "",
            member_display=masked_person(getattr(form, "member", None)) if hasattr(form, "member") else "",
            needs_confirmation=bool(
                evaluation and evaluation.needs_spouse_confirmation(form.cleaned_data.get("kinship", ""))
            ),
        ),
    )


def receipt_view(request, pk, admin_site=None):
    """回执: a printable record of the binding (or, once it has ended, of its end), ID numbers masked."""
    require(request, VIEW)
    authorization = get_object_or_404(
        Authorization.objects.select_related("grantor__region", "member__region", "policy__region", "created_by"),
        pk=pk,
    )
    ended = authorization.status not in LIVE_STATUSES and authorization.status != AuthorizationStatus.DECLINED
    title = _("Family mutual-aid unbinding receipt") if ended else _("Family mutual-aid binding receipt")
    return TemplateResponse(
        request,
        "admin/bindings/authorization/receipt.html",
        context(
            request,
            title,
            admin_site,
            authorization=authorization,
            receipt_title=title,
            ended=ended,
            pending=authorization.status == AuthorizationStatus.PENDING_CONFIRMATION,
            last_day=inclusive_last_day(authorization.valid_to),
            documents=list(authorization.documents.all()),
            events=list(authorization_history(authorization)),
            printed_at=timezone.now(),
            **authorization_summary(authorization),
        ),
    )


def inclusive_last_day(valid_to):
    """The last day of an end entered at the counter as a date "to … (inclusive)" and kept as the next midnight
    (Asia/Shanghai); None for another end, or none."""
    if valid_to is None:
        return None
    local = timezone.localtime(valid_to)
    if (local.hour, local.minute, local.second, local.microsecond) != (0, 0, 0, 0):
        return None
    return local.date() - datetime.timedelta(days=1)


# --- 解除绑定 -------------------------------------------------------------------------------------------


def unbind_view(request, pk, admin_site=None):
    """Reason (required) → confirmation page → authorization_revoke."""
    require(request, CHANGE)
    authorization = get_object_or_404(Authorization.objects.select_related("grantor", "member"), pk=pk)
    if authorization.status not in LIVE_STATUSES:
        messages.error(request, _("This authorization has already ended."))
        return redirect(change_url(authorization))
    form = UnbindForm()
    confirming = False
    if request.method == "POST":
        form = UnbindForm(request.POST)
        if form.is_valid():
            if form.cleaned_data["confirmed"]:
                try:
                    authorization_revoke(
                        authorization=authorization,
                        reason=form.cleaned_data["reason"],
                        channel=Channel.COUNTER,
                        acting_user=request.user,
                    )
                except (BusinessRuleError, ValidationError) as error:
                    messages.error(request, getattr(error, "message", None) or "；".join(error.messages))
                else:
                    messages.success(request, _("The authorization was ended."))
                return redirect(change_url(authorization))
            confirming = True
    return TemplateResponse(
        request,
        "admin/bindings/authorization/unbind.html",
        context(
            request,
            _("Confirm unbinding") if confirming else _("Unbind"),
            admin_site,
            form=form,
            confirming=confirming,
            authorizations=[authorization],
            authorization=authorization,
        ),
    )


def change_period_view(request, pk, admin_site=None):
    """R12: the grantor changes the end of a live authorization (authorization_change_period)."""
    require(request, CHANGE)
    authorization = get_object_or_404(Authorization.objects.select_related("grantor", "member"), pk=pk)
    if authorization.status not in LIVE_STATUSES:
        messages.error(request, _("This authorization has already ended."))
        return redirect(change_url(authorization))
    initial = {}
    if authorization.valid_to is not None:
        initial["valid_to"] = timezone.localdate(authorization.valid_to - datetime.timedelta(seconds=1))
    form = ChangePeriodForm(request.POST or None, initial=initial)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            authorization_change_period(
                authorization=authorization, valid_to=form.new_end(), channel=Channel.COUNTER, acting_user=request.user
            )
        except BusinessRuleError as error:
            refusal = error.reasons
        else:
            messages.success(request, _("The validity period was changed."))
            return redirect(change_url(authorization))
    return TemplateResponse(
        request,
        "admin/bindings/authorization/change_period.html",
        context(request, _("Change validity period"), admin_site, form=form, refusal=refusal,
                authorization=authorization),
    )


def bulk_unbind_view(request, admin_site=None):
    """Several authorizations at once (a grantor's members, or the ones chosen in the list) → one reason →
    confirmation page → authorizations_revoke_for_grantor for each grantor."""
    require(request, CHANGE)
    source = request.POST if request.method == "POST" else request.GET
    live = Authorization.objects.filter(status__in=LIVE_STATUSES).select_related("grantor", "member")
    grantor = None
    if source.get("grantor", "").isdigit():
        grantor = get_object_or_404(Person, pk=source["grantor"])
        queryset = live.filter(grantor=grantor)
    else:
        ids = [i for i in source.get("ids", "").split(",") if i.isdigit()]
        queryset = live.filter(pk__in=ids)
    queryset = queryset.order_by("grantor_id", "pk")
    if not queryset.exists():
        messages.warning(request, _("There is no live authorization to end."))
        return redirect("admin:bindings_authorization_changelist")
    form = BulkUnbindForm(queryset=queryset, initial={"authorizations": list(queryset)})
    confirming = False
    if request.method == "POST" and "reason" in request.POST:
        form = BulkUnbindForm(request.POST, queryset=queryset)
        if form.is_valid():
            chosen = list(form.cleaned_data["authorizations"])
            if form.cleaned_data["confirmed"]:
                by_grantor = defaultdict(list)
                for authorization in chosen:
                    by_grantor[authorization.grantor].append(authorization.pk)
                ended = []
                for person, ids in by_grantor.items():
                    ended += authorizations_revoke_for_grantor(
                        grantor=person, reason=form.cleaned_data["reason"], channel=Channel.COUNTER,
                        acting_user=request.user, authorization_ids=ids,
                    )
                messages.success(request, _("Authorizations ended: %(count)d.") % {"count": len(ended)})
                if grantor is not None:
                    return redirect("admin:accounts_person_change", grantor.pk)
                return redirect("admin:bindings_authorization_changelist")
            confirming = True
    return TemplateResponse(
        request,
        "admin/bindings/authorization/bulk_unbind.html",
        context(
            request,
            _("Confirm unbinding") if confirming else _("Unbind several members"),
            admin_site,
            form=form,
            confirming=confirming,
            grantor=grantor,
            grantor_display=masked_person(grantor) if grantor else "",
            ids=source.get("ids", ""),
            chosen=list(form.cleaned_data["authorizations"]) if confirming else [],
        ),
    )


# --- 配偶确认（窗口当面） -----------------------------------------------------------------------------------


def confirm_view(request, pk, admin_site=None):
    """R11 at the counter: the spouse is present and accepts or declines on the spot."""
    require(request, CHANGE)
    authorization = get_object_or_404(Authorization.objects.select_related("grantor", "member"), pk=pk)
    if authorization.status != AuthorizationStatus.PENDING_CONFIRMATION:
        messages.error(request, _("This authorization is not waiting for the spouse's confirmation."))
        return redirect(change_url(authorization))
    form = ConfirmOnSiteForm()
    if request.method == "POST":
        form = ConfirmOnSiteForm(request.POST)
        decision = request.POST.get("decision")
        if decision not in ("accept", "decline"):
            form.add_error(None, _("Choose whether the spouse accepts or declines."))
        if form.is_valid():
            try:
                authorization_confirm(
                    authorization=authorization,
                    accept=decision == "accept",
                    channel=Channel.COUNTER,
                    acting_user=request.user,
                    confirmed_on_site=True,
                )
            except BusinessRuleError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request,
                    _("The spouse accepted; the authorization is active.")
                    if decision == "accept"
                    else _("The spouse declined; the authorization did not take effect."),
                )
            return redirect(change_url(authorization))
    return TemplateResponse(
        request,
        "admin/bindings/authorization/confirm.html",
        context(
            request, _("Spouse confirmation at the counter"), admin_site,
            form=form, authorization=authorization, **authorization_summary(authorization),
        ),
    )


# --- 补充材料 / 查看材料 ---------------------------------------------------------------------------------


def document_add_view(request, pk, admin_site=None):
    require(request, ADD_DOCUMENT)
    authorization = get_object_or_404(Authorization.objects.select_related("grantor", "member"), pk=pk)
    form = DocumentAddForm()
    if request.method == "POST":
        form = DocumentAddForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                document_add(
                    authorization=authorization,
                    upload=DocumentUpload(kind=form.cleaned_data["kind"], file=form.cleaned_data["file"]),
                    acting_user=request.user,
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error("file", message)
            else:
                messages.success(request, _("The document was added."))
                return redirect(change_url(authorization))
    return TemplateResponse(
        request,
        "admin/bindings/authorization/document_add.html",
        context(
            request, _("Add a document"), admin_site,
            form=form, authorization=authorization, **authorization_summary(authorization),
        ),
    )


def document_file_view(request, pk, admin_site=None):
    """Serves a scanned document to staff allowed to open it, and logs who opened it and when."""
    require(request, VIEW_FILE)
    document = get_object_or_404(AuthorizationDocument, pk=pk)
    try:
        handle = document_open(document=document, user=request.user, remote_addr=client_address(request))
    except FileNotFoundError:
        raise Http404(_("The file is missing from storage.")) from None
    extension = document.stored_name.rsplit(".", 1)[-1]
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"{document.kind}-{document.pk}.{extension}",
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
