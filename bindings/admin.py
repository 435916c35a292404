"""Admin for policies, family e-voucher links, authorizations (read-only records) and the counter screens.

Authorizations are audited: nobody adds, edits or deletes one through the generic form. They are made and
ended by the counter screens in bindings.admin_views, mounted here with get_urls() (style.md #6).
"""

from functools import update_wrapper

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.admin import FastListMixin, masked_person
from accounts.admin_base import ReadOnlyAdminMixin
from accounts.imports.admin import ImportAdminMixin
from bindings import admin_views
from bindings.family_links import family_link_create
from bindings.forms import FamilyLinkForm, PolicyForm
from bindings.models import (
    LIVE_STATUSES,
    Authorization,
    AuthorizationDocument,
    AuthorizationEvent,
    AuthorizationStatus,
    DocumentAccess,
    DocumentKind,
    FamilyLink,
    Policy,
)
from bindings.selectors import live_authorizations_outside_policy


@admin.register(Policy)
class PolicyAdmin(ImportAdminMixin, admin.ModelAdmin):
    """Supervisors (业务主管) edit policies; everyone else only reads them (group permissions)."""

    import_resource = "policies"
    form = PolicyForm
    list_display = ["region", "effective_from", "kinship_list", "scope", "spouse_confirmation", "single_relationship"]
    list_filter = ["scope", "spouse_confirmation", "single_relationship"]
    list_select_related = ["region"]
    actions = None

    @admin.display(description=_("allowed kinships"))
    def kinship_list(self, obj):
        return obj.kinship_labels()

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            # Read-only (counter staff, auditors): the kinships in Chinese, not the stored list of codes.
            fields = ["kinship_list" if name == "kinships" else name for name in fields]
        return fields

    def has_delete_permission(self, request, obj=None):
        return False  # authorizations keep the policy they were made under

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "kinships" in form.changed_data:
            outside = live_authorizations_outside_policy(obj)
            if outside:
                # R5 is judged at use under the policy in force: narrowing the kinships of the policy in force stops
                # existing authorizations at once. The supervisor is told how many.
                messages.warning(
                    request,
                    f"按本政策，{outside} 条现有共济授权的亲属关系已不在允许范围内，即日起不能再用于共济支付（R5）。",
                )


@admin.register(FamilyLink)
class FamilyLinkAdmin(ImportAdminMixin, FastListMixin, admin.ModelAdmin):
    """亲情账户 links, created by bindings.family_links.family_link_create (age/proof rule checked in the form)."""

    import_resource = "family_links"
    form = FamilyLinkForm
    list_display = ["owner_display", "relative_display", "kinship", "verification", "created_at"]
    list_filter = ["kinship", "verification"]
    list_select_related = ["owner", "relative"]
    readonly_fields = ["owner_display", "relative_display", "created_by", "created_at"]
    actions = None

    @admin.display(description=_("owner"))
    def owner_display(self, obj):
        return masked_person(obj.owner) if obj.owner_id else "-"

    @admin.display(description=_("relative"))
    def relative_display(self, obj):
        return masked_person(obj.relative) if obj.relative_id else "-"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["owner_id_number", "relative_id_number", "kinship", "verification"]
        return ["owner_display", "relative_display", "kinship", "verification", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["owner_display", "relative_display", "kinship", "verification", "created_by", "created_at"]

    def has_change_permission(self, request, obj=None):
        if obj is not None:
            return False  # a link is made or ended, not rewritten
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = family_link_create(
            owner=form.owner,
            relative=form.relative,
            kinship=form.cleaned_data["kinship"],
            verification=form.cleaned_data["verification"],
            acting_user=request.user,
        )
        obj.pk = created.pk
        obj.created_by = created.created_by
        obj.created_at = created.created_at
        obj._state.adding = False


class EventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AuthorizationEvent
    fields = ["occurred_at", "action", "channel", "acting_user", "api_client", "note", "documents_display"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("audit trail")

    @admin.display(description=_("documents"))
    def documents_display(self, obj):
        kinds = dict(DocumentKind.choices)
        return "；".join(f"{kinds.get(d.get('kind'), d.get('kind'))}（{str(d.get('sha256', ''))[:8]}）"
                        for d in obj.documents or []) or "-"


@admin.register(Authorization)
class AuthorizationAdmin(FastListMixin, admin.ModelAdmin):
    change_list_template = "admin/bindings/authorization/change_list.html"
    change_form_template = "admin/bindings/authorization/change_form.html"
    list_display = ["id", "grantor_display", "member_display", "kinship", "status", "channel", "valid_from",
                    "valid_to", "created_at"]
    list_display_links = ["id", "grantor_display"]
    list_filter = ["status", "kinship", "channel"]
    list_select_related = ["grantor", "member"]
    fields = [
        "grantor_display", "member_display", "kinship", "status", "valid_from", "valid_to", "channel", "policy",
        "exclusive", "promise_accepted", "created_by", "created_by_client", "created_at", "confirmed_at",
        "confirmation_channel", "ended_at", "end_reason",
    ]
    readonly_fields = fields
    inlines = [EventInline]
    actions = ["unbind_selected"]

    @admin.display(description=_("grantor"))
    def grantor_display(self, obj):
        return masked_person(obj.grantor)

    @admin.display(description=_("member"))
    def member_display(self, obj):
        return masked_person(obj.member)

    def has_add_permission(self, request):
        return False  # the bind screen files authorizations, through the rules engine

    def has_change_permission(self, request, obj=None):
        return False  # records are read-only; the counter screens change their status

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        if not request.user.has_perm(admin_views.CHANGE):
            actions.pop("unbind_selected", None)
        return actions

    @admin.action(description=_("Unbind the selected authorizations"))
    def unbind_selected(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.filter(status__in=LIVE_STATUSES).values_list("pk", flat=True))
        url = reverse("admin:bindings_authorization_bulk_unbind")
        return HttpResponseRedirect(f"{url}?{urlencode({'ids': ids})}")

    def get_urls(self):
        def wrap(view):
            def wrapper(*args, **kwargs):
                return view(*args, admin_site=self.admin_site, **kwargs)

            return self.admin_site.admin_view(update_wrapper(wrapper, view))

        info = "bindings_authorization"
        return [
            path("bind/", wrap(admin_views.bind_view), name=f"{info}_bind"),
            path("unbind/", wrap(admin_views.bulk_unbind_view), name=f"{info}_bulk_unbind"),
            path("<int:pk>/receipt/", wrap(admin_views.receipt_view), name=f"{info}_receipt"),
            path("<int:pk>/unbind/", wrap(admin_views.unbind_view), name=f"{info}_unbind"),
            path("<int:pk>/period/", wrap(admin_views.change_period_view), name=f"{info}_change_period"),
            path("<int:pk>/confirm/", wrap(admin_views.confirm_view), name=f"{info}_confirm"),
            path("<int:pk>/documents/add/", wrap(admin_views.document_add_view), name=f"{info}_document_add"),
            path("documents/<int:pk>/file/", wrap(admin_views.document_file_view), name="bindings_document_file"),
        ] + super().get_urls()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("grantor", "member", "policy__region")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        authorization = self.get_object(request, object_id)
        if authorization is not None:
            user = request.user
            extra_context.update(
                documents=list(authorization.documents.select_related("uploaded_by")),
                is_live=authorization.status in LIVE_STATUSES,
                is_pending=authorization.status == AuthorizationStatus.PENDING_CONFIRMATION,
                can_change=user.has_perm(admin_views.CHANGE),
                can_add_document=user.has_perm(admin_views.ADD_DOCUMENT),
                can_view_file=user.has_perm(admin_views.VIEW_FILE),
            )
        return super().change_view(request, object_id, form_url, extra_context=extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_bind"] = request.user.has_perm(admin_views.ADD)
        return super().changelist_view(request, extra_context=extra_context)


@admin.register(AuthorizationDocument)
class AuthorizationDocumentAdmin(FastListMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "authorization", "kind", "original_name", "size", "uploaded_by", "uploaded_at"]
    list_filter = ["kind"]
    list_select_related = ["authorization__grantor", "authorization__member", "uploaded_by"]
    fields = ["authorization", "kind", "original_name", "content_type", "size", "sha256", "uploaded_by",
              "uploaded_at"]
    readonly_fields = fields


@admin.register(DocumentAccess)
class DocumentAccessAdmin(FastListMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """材料查阅记录, the auditors' page: labelled here (the model's fields carry no verbose names)."""

    list_display = ["accessed_at_display", "user_display", "document", "remote_addr_display"]
    list_select_related = ["user", "document"]
    fields = ["accessed_at_display", "user_display", "document", "remote_addr_display"]
    readonly_fields = fields

    @admin.display(description=_("accessed at"), ordering="accessed_at")
    def accessed_at_display(self, obj):
        return obj.accessed_at

    @admin.display(description=_("opened by"), ordering="user")
    def user_display(self, obj):
        return obj.user.get_username()

    @admin.display(description=_("IP address"))
    def remote_addr_display(self, obj):
        return obj.remote_addr or "-"
