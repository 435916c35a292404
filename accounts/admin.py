"""Admin for regions, insured people, personal accounts, the ledger, filings and API clients.

Counter staff (窗口经办) work here in Simplified Chinese. Lists never show a full ID number or name; the
person list stays fast at a million rows (exact-match search on unique indexes, no full COUNT).
Writes go through accounts.services so that rule R13 applies when a clerk suspends a person.
"""

import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch, Q
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import ReadOnlyAdminMixin
from accounts.forms import CrossRegionFilingForm, PersonAdminForm
from accounts.id_numbers import ID_NUMBER_RE, mask_id_number, mask_name, normalize_id_number, parse_id_number
from accounts.imports.admin import ImportAdminMixin
from accounts.models import ApiClient, CrossRegionFiling, LedgerEntry, Person, PersonalAccount, Region
from accounts.selectors import ledger_entries
from accounts.services import PERSON_EDITABLE_FIELDS, person_create, person_update

admin.site.site_header = "职工医保个人账户家庭共济经办系统"
admin.site.site_title = "家庭共济经办"
admin.site.index_title = "经办首页"

LEDGER_ON_PERSON_PAGE = 50
COUNT_CAP = 10_000
PERSON_NO_RE = re.compile(r"^[0-9A-Za-z\-]{4,30}$")


class EstimatedCountPaginator(Paginator):
    """A paginator that never counts a million rows.

    Unfiltered on PostgreSQL it reads the planner's estimate (pg_class.reltuples); otherwise it counts
    at most COUNT_CAP + 1 rows (``SELECT COUNT(*) FROM (... LIMIT n)``), so the page links stop at the cap.
    """

    @cached_property
    def count(self):
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None:
            return len(queryset)
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            estimate = row[0] if row else -1
            if estimate is not None and estimate > COUNT_CAP:
                return int(estimate)
        return queryset.order_by()[: COUNT_CAP + 1].count()


class FastListMixin:
    """Changelists that must stay fast on big tables."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50


def masked_person(person: Person | None) -> str:
    if person is None:
        return "-"
    return f"{mask_name(person.name)}（{mask_id_number(person.id_number)}）"


@admin.register(Region)
class RegionAdmin(ImportAdminMixin, admin.ModelAdmin):
    import_resource = "regions"
    list_display = ["code", "name"]
    search_fields = ["=code", "name"]
    ordering = ["code"]

    def has_delete_permission(self, request, obj=None):
        return False  # people, policies and institutions refer to regions


class PersonIdSearchMixin:
    """Search that hits a unique index: an 18-character ID number or a person number with `=`, a name
    exactly (or by prefix when it ends with `*`). Never `icontains` over a million rows."""

    # The box is a GET form: its term lands in the address bar, the browser history and any proxy's access log.
    # ID numbers are therefore looked up through the POST box below it (find_view), never through `q`.
    search_help_text = "输入人员编号或完整姓名（姓名后加 * 按前缀查找）；身份证号请在下方“按身份证号查找”框输入。"

    def get_search_results(self, request, queryset, search_term):
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        if ID_NUMBER_RE.match(normalize_id_number(term)):
            # An 18-character term is matched as a person number only (unique index); an ID number is not searched.
            return queryset.filter(person_no=term), False
        if PERSON_NO_RE.match(term):
            return queryset.filter(person_no=term), False
        if term.endswith("*") and len(term) > 1:
            return queryset.filter(name__startswith=term.rstrip("*")), False
        return queryset.filter(name=term), False


@admin.register(Person)
class PersonAdmin(ImportAdminMixin, PersonIdSearchMixin, FastListMixin, admin.ModelAdmin):
    import_resource = "persons"
    form = PersonAdminForm
    change_form_template = "admin/accounts/person/change_form.html"
    list_display = [
        "person_no",
        "masked_name_display",
        "masked_id_display",
        "insurance_type",
        "insurance_status",
        "region",
        "balance_display",
    ]
    list_display_links = ["person_no", "masked_name_display"]
    list_filter = ["insurance_type", "insurance_status", "region"]
    list_select_related = ["region", "account"]
    search_fields = ["=id_number", "=person_no", "=name"]
    readonly_fields = ["sex", "birth_date", "balance_display", "created_at", "updated_at"]
    actions = None

    @admin.display(description=_("full name"))
    def masked_name_display(self, obj):
        return mask_name(obj.name)

    @admin.display(description=_("ID number"))
    def masked_id_display(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description=_("balance"))
    def balance_display(self, obj):
        try:
            return obj.account.balance
        except Person.account.RelatedObjectDoesNotExist:
            return "-"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["id_number", "person_no", "name", "insurance_type", "insurance_status", "region", "category",
                    "phone"]
        return ["person_no", "id_number", "name", "sex", "birth_date", "insurance_type", "insurance_status",
                "region", "category", "phone", "balance_display", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["person_no", "id_number", *self.readonly_fields]

    def has_delete_permission(self, request, obj=None):
        return False  # people are never deleted; their status says they left

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            created = person_create(
                id_number=data["id_number"],
                name=data["name"],
                insurance_type=data["insurance_type"],
                insurance_status=data["insurance_status"],
                region=data["region"],
                category=data.get("category") or "",
                phone=data.get("phone") or "",
                person_no=data.get("person_no") or None,
                acting_user=request.user,
            )
            obj.pk = created.pk
            obj.person_no = created.person_no
            obj.sex = created.sex
            obj.birth_date = created.birth_date
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        fields = {name: data[name] for name in form.changed_data if name in PERSON_EDITABLE_FIELDS}
        if fields:
            live_before = _live_authorizations(obj)
            person_update(person=obj, source="admin", acting_user=request.user, **fields)
            ended = live_before - _live_authorizations(obj)
            if ended:
                # R13 ends them in the same save and for good (a new binding needs new papers): say so plainly.
                messages.warning(
                    request,
                    f"因参保状态、参保地或险种变更，已按规定自动解除 {ended} 条家庭共济授权（R13），详见下方授权记录。",
                )

    change_list_template = "admin/accounts/person/change_list.html"

    def get_urls(self):
        find = path("find/", self.admin_site.admin_view(self.find_view), name="accounts_person_find")
        return [find, *super().get_urls()]

    def find_view(self, request):
        """Look a person up by ID number through a POST, so the number stays out of URLs and access logs
        (the list's search box puts its term in the query string)."""
        if request.method != "POST" or not self.has_view_or_change_permission(request):
            raise PermissionDenied
        raw = request.POST.get("id_number", "").strip()
        number = normalize_id_number(raw)
        person = None
        if ID_NUMBER_RE.match(number):
            # An 18-digit person number typed here (or sent here from the search box) is found too.
            person = Person.objects.filter(Q(id_number=number) | Q(person_no=raw)).only("pk").first()
        if person is None:
            messages.error(request, _("No insured person has this ID number."))
            return HttpResponseRedirect(reverse("admin:accounts_person_changelist"))
        return HttpResponseRedirect(reverse("admin:accounts_person_change", args=[person.pk]))

    def changelist_view(self, request, extra_context=None):
        """A search for a valid ID number through the GET box (typed with JavaScript off, or a bookmarked link) is
        answered by a redirect to the list without it, so that the number stays in no link of the page (the list's
        filters, sorting and `_changelist_filters` would repeat it); the clerk is sent to the POST box."""
        term = normalize_id_number(request.GET.get("q", "").strip())
        if ID_NUMBER_RE.match(term) and _is_valid_id_number(term):
            messages.error(request, "为保护个人信息，身份证号不能在地址栏中查询：请在“按身份证号查找”框输入。")
            query = request.GET.copy()
            del query["q"]
            url = reverse("admin:accounts_person_changelist")
            return HttpResponseRedirect(f"{url}?{query.urlencode()}" if query else url)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        person = self.get_object(request, object_id)
        if person is not None:
            extra_context.update(person_page_context(request, person))
        return super().change_view(request, object_id, form_url, extra_context=extra_context)


def _is_valid_id_number(value: str) -> bool:
    try:
        parse_id_number(value)
    except ValidationError:
        return False
    return True


def _live_authorizations(person: Person) -> int:
    from bindings.models import LIVE_STATUSES, Authorization

    return Authorization.objects.filter(Q(grantor=person) | Q(member=person), status__in=LIVE_STATUSES).count()


def person_page_context(request, person: Person) -> dict:
    """The panels under the person's form: ledger, authorization records, family links, diagnosis."""
    from bindings.models import LIVE_STATUSES, AuthorizationEvent
    from bindings.selectors import authorizations_for_person, family_diagnosis, family_links_for_person

    events = AuthorizationEvent.objects.select_related("acting_user").order_by("occurred_at", "id")
    records = list(authorizations_for_person(person).prefetch_related(Prefetch("events", queryset=events)))
    try:
        account = person.account
    except Person.account.RelatedObjectDoesNotExist:
        account = None
    user = request.user
    return {
        "person": person,
        "account": account,
        "ledger": list(ledger_entries(person=person)[:LEDGER_ON_PERSON_PAGE]) if account else [],
        "ledger_limit": LEDGER_ON_PERSON_PAGE,
        "as_grantor": [a for a in records if a.grantor_id == person.pk],
        "as_member": [a for a in records if a.member_id == person.pk],
        "family_links": list(family_links_for_person(person)),
        "diagnosis": family_diagnosis(person),
        "has_live_grants": any(a.grantor_id == person.pk and a.status in LIVE_STATUSES for a in records),
        "can_bind": user.has_perm("bindings.add_authorization"),
        "can_unbind": user.has_perm("bindings.change_authorization"),
    }


@admin.register(PersonalAccount)
class PersonalAccountAdmin(ReadOnlyAdminMixin, FastListMixin, admin.ModelAdmin):
    list_display = ["holder", "balance", "opened_at"]
    list_select_related = ["person"]
    fields = ["holder", "balance", "opened_at"]
    readonly_fields = fields

    @admin.display(description=_("account holder"))
    def holder(self, obj):
        return masked_person(obj.person)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ImportAdminMixin, ReadOnlyAdminMixin, FastListMixin, admin.ModelAdmin):
    """收支明细: nobody adds, edits or deletes a ledger row here (the database refuses it anyway). Account credits
    (个人账户划入, imports.md `credits`) are appended through the import page, by supervisors (the only group
    holding add_ledgerentry, migration 0004), with the same rules as `import_data credits`."""

    import_resource = "credits"

    list_display = ["occurred_at", "holder", "kind", "amount", "balance_after", "settlement", "member_display"]
    list_filter = ["kind"]
    list_select_related = ["account__person", "member", "settlement"]
    fields = [
        "account", "kind", "amount", "balance_after", "occurred_at", "reference", "settlement", "member_display",
        "institution", "reverses", "note", "created_by", "created_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("account holder"))
    def holder(self, obj):
        return masked_person(obj.account.person)

    @admin.display(description=_("member paid for"))
    def member_display(self, obj):
        return masked_person(obj.member) if obj.member_id else "-"


@admin.register(CrossRegionFiling)
class CrossRegionFilingAdmin(ImportAdminMixin, FastListMixin, admin.ModelAdmin):
    import_resource = "filings"
    form = CrossRegionFilingForm
    list_display = ["holder", "treatment_region", "start_date", "end_date"]
    list_select_related = ["person", "treatment_region"]
    list_filter = ["treatment_region"]
    readonly_fields = ["holder"]
    actions = None

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["person_id_number", "treatment_region", "start_date", "end_date"]
        return ["holder", "treatment_region", "start_date", "end_date"]

    @admin.display(description=_("insured person"))
    def holder(self, obj):
        return masked_person(obj.person)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiClient)
class ApiClientAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Listing only: clients and their tokens are created by `manage.py create_api_client`."""

    list_display = ["name", "role", "institution", "token_prefix", "is_active", "created_at"]
    list_filter = ["role", "is_active"]
    fields = ["name", "role", "institution", "token_prefix", "is_active", "created_at"]
    readonly_fields = fields
