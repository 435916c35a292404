"""Admin for institutions, the pharmacy catalogue and settlements, with the report pages of S8.

Institutions and the catalogue: every staff group reads, only supervisors (业务主管) change (permissions from
accounts migration 0004). Settlements are read-only for everyone: they are written by the API engine and
corrected only by a reversal. Extra pages (style.md #6), mounted with get_urls() under the settlement admin and
wrapped in admin_site.admin_view, need `settlements.view_settlement`:

- expenditure/          grantor expenditure report (支出明细): search by exact ID number or person number, period
- expenditure/export/   the same lines as CSV (streamed) or XLSX (write-only workbook)
- expenditure/print/    printable statement (支出明细单)
- monthly/              monthly summary by region
"""

import datetime
from decimal import Decimal
from functools import update_wrapper
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.admin_base import ReadOnlyAdminMixin
from accounts.forms import BoundedDateField
from accounts.id_numbers import mask_id_number, mask_name
from accounts.imports.admin import ImportAdminMixin
from accounts.models import Person
from accounts.selectors import day_bounds
from settlements.models import CatalogueItem, Institution, Settlement, SettlementItem
from settlements.resources import CATEGORY_LABELS, KINSHIP_LABELS, csv_response, xlsx_response
from settlements.selectors import (
    expenditure_list,
    expenditure_totals,
    grantor_find,
    monthly_summary_by_region,
    monthly_summary_total,
)

VIEW_SETTLEMENT = "settlements.view_settlement"
REPORT_PAGE_SIZE = 100


@admin.register(Institution)
class InstitutionAdmin(ImportAdminMixin, admin.ModelAdmin):
    import_resource = "institutions"
    list_display = ("code", "name", "kind", "region", "designated", "updated_at")
    list_filter = ("kind", "designated")
    search_fields = ("=code", "name")
    list_select_related = ("region",)
    autocomplete_fields = ()
    raw_id_fields = ("region",)

    def has_delete_permission(self, request, obj=None):
        return False  # settlements and ledger entries point at it; undesignate instead


@admin.register(CatalogueItem)
class CatalogueItemAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("=code", "name")

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: past settlements were judged against it


class MutualAidFilter(admin.SimpleListFilter):
    title = _("used mutual aid")
    parameter_name = "mutual_aid"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(mutual_aid_paid__gt=0)
        if self.value() == "no":
            return queryset.filter(mutual_aid_paid=0)
        return queryset


class SettlementItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SettlementItem
    fields = ("name", "kind", "catalogue_code", "amount", "eligible")
    readonly_fields = fields
    extra = 0


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "institution",
        "external_id",
        "patient_masked",
        "category",
        "channel",
        "personal_burden",
        "own_account_paid",
        "mutual_aid_paid",
        "cash_paid",
        "status",
    )
    list_filter = ("institution", ("occurred_at", admin.DateFieldListFilter), "category", MutualAidFilter, "status")
    list_select_related = ("institution", "patient")
    search_fields = ("=external_id",)
    search_help_text = "输入机构结算流水号，或患者、授权人的人员编号（查看其结算及未能共济的原因）。"
    date_hierarchy = None
    show_full_result_count = False
    inlines = [SettlementItemInline]
    fields = (
        "institution",
        "external_id",
        "patient_masked",
        "patient_id_masked",
        "credential_type",
        "category",
        "channel",
        "total_amount",
        "fund_paid",
        "personal_burden",
        "own_account_paid",
        "mutual_aid_paid",
        "cash_paid",
        "grantor_masked",
        "reasons_text",
        "status",
        "occurred_at",
        "created_at",
        "reversed_at",
    )
    readonly_fields = fields
    change_list_template = "admin/settlements/settlement/change_list.html"

    @admin.display(description=_("patient"))
    def patient_masked(self, obj):
        return f"{mask_name(obj.patient.name)}（{obj.patient.person_no}）"

    @admin.display(description=_("patient ID number"))
    def patient_id_masked(self, obj):
        return mask_id_number(obj.patient.id_number)

    @admin.display(description=_("grantor"))
    def grantor_masked(self, obj):
        if obj.grantor is None:
            return "—"
        return f"{mask_name(obj.grantor.name)}（{obj.grantor.person_no}）"

    @admin.display(description=_("reasons"))
    def reasons_text(self, obj):
        return "；".join(f"{r['code']} {r['message']}" for r in obj.reasons) or "—"

    def get_actions(self, request):
        return {}

    def get_search_results(self, request, queryset, search_term):
        """A person number lists that person's settlements, as patient or as paying grantor (the indexes on
        (patient, occurred_at) and (grantor, occurred_at)); anything else is an institution's settlement id. The
        clerk answering "why did my mother's purchase not use my account?" finds the refusal reasons this way."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        person_id = Person.objects.filter(person_no=term).values_list("pk", flat=True).first()
        if person_id is not None:
            return queryset.filter(Q(patient_id=person_id) | Q(grantor_id=person_id)), False
        return queryset.filter(external_id=term), False

    def get_urls(self):
        def wrap(view):
            def wrapper(*args, **kwargs):
                return self.admin_site.admin_view(view)(*args, **kwargs)

            return update_wrapper(wrapper, view)

        return [
            path("expenditure/", wrap(self.expenditure_view), name="settlements_expenditure"),
            path("expenditure/export/", wrap(self.expenditure_export_view), name="settlements_expenditure_export"),
            path("expenditure/print/", wrap(self.expenditure_print_view), name="settlements_expenditure_print"),
            path("monthly/", wrap(self.monthly_view), name="settlements_monthly"),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        extra_context["report_links"] = [
            (reverse("admin:settlements_expenditure"), _("Grantor expenditure details")),
            (reverse("admin:settlements_monthly"), _("Monthly summary by region")),
        ]
        return super().changelist_view(request, extra_context)

    # --- Report pages -------------------------------------------------------------------------------------

    def _require_view(self, request):
        if not request.user.has_perm(VIEW_SETTLEMENT):
            raise PermissionDenied

    def _report(self, request):
        form = ExpenditureReportForm(request.GET or None)
        grantor, lines, totals, start, end = None, None, None, None, None
        if form.is_valid():
            grantor = grantor_find(form.cleaned_data["grantor"])
            if grantor is None:
                form.add_error("grantor", _("No insured person with this ID number or person number."))
            else:
                start, end = day_bounds(form.cleaned_data.get("date_from"), form.cleaned_data.get("date_to"))
                lines = expenditure_list(grantor=grantor, start=start, end=end)
                totals = expenditure_totals(grantor=grantor, start=start, end=end)
        return form, grantor, lines, totals

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }

    def expenditure_view(self, request):
        """The search is POSTed so that an ID number never lands in a URL or an access log; the result page is
        addressed by the person number."""
        self._require_view(request)
        if request.method == "POST":
            form = ExpenditureReportForm(request.POST)
            if form.is_valid():
                grantor = grantor_find(form.cleaned_data["grantor"])
                if grantor is not None:
                    query = {"grantor": grantor.person_no}
                    for name in ("date_from", "date_to"):
                        if form.cleaned_data.get(name):
                            query[name] = form.cleaned_data[name].isoformat()
                    return HttpResponseRedirect(f"{request.path}?{urlencode(query)}")
                form.add_error("grantor", _("No insured person with this ID number or person number."))
            return TemplateResponse(
                request,
                "admin/settlements/expenditure.html",
                self._context(request, _("Grantor expenditure details"), form=form),
            )
        form, grantor, lines, totals = self._report(request)
        page = None
        if lines is not None:
            page = Paginator(lines, REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
            page.object_list = _labelled(page.object_list)
        query = request.GET.copy()
        query.pop("page", None)
        context = self._context(
            request,
            _("Grantor expenditure details"),
            form=form,
            grantor=grantor,
            grantor_name=mask_name(grantor.name) if grantor else "",
            grantor_id=mask_id_number(grantor.id_number) if grantor else "",
            page=page,
            totals=totals,
            query=query.urlencode(),
        )
        return TemplateResponse(request, "admin/settlements/expenditure.html", context)

    def expenditure_export_view(self, request):
        self._require_view(request)
        form, grantor, lines, totals = self._report(request)
        if lines is None:
            raise Http404
        stamp = timezone.localtime().strftime("%Y%m%d%H%M")
        filename = f"expenditure-{grantor.person_no}-{stamp}"
        if request.GET.get("format") == "xlsx":
            return xlsx_response(lines, filename)
        return csv_response(lines, filename)

    def expenditure_print_view(self, request):
        self._require_view(request)
        form, grantor, lines, totals = self._report(request)
        if lines is None:
            raise Http404
        context = self._context(
            request,
            _("Mutual-aid expenditure statement"),
            form=form,
            grantor=grantor,
            grantor_name=mask_name(grantor.name),
            grantor_id=mask_id_number(grantor.id_number),
            lines=_labelled(lines[:5000]),
            totals=totals,
            printed_at=timezone.localtime(),
            truncated=totals.count > 5000,
        )
        return TemplateResponse(request, "admin/settlements/expenditure_print.html", context)

    def monthly_view(self, request):
        self._require_view(request)
        form = MonthForm(request.GET or None)
        month = timezone.localdate().replace(day=1)
        if form.is_valid() and form.cleaned_data.get("month"):
            month = form.cleaned_data["month"]
        rows = monthly_summary_by_region(month=month)
        total = monthly_summary_total(rows)
        context = self._context(
            request, _("Monthly summary by region"), form=form, month=month, rows=rows, total=total
        )
        return TemplateResponse(request, "admin/settlements/monthly.html", context)


def _labelled(lines):
    """Chinese labels for the kinship and category codes the query annotates."""
    lines = list(lines)
    for line in lines:
        line.kinship_label = KINSHIP_LABELS.get(line.kinship, line.kinship or "—")
        line.category_label = CATEGORY_LABELS.get(line.category, line.category or "—")
        line.amount_text = f"{Decimal(line.spent):.2f}"  # SQLite returns the negated amount without its places
    return lines


class ExpenditureReportForm(forms.Form):
    grantor = forms.CharField(
        label=_("Grantor ID number or person number"), max_length=30, widget=forms.TextInput(attrs={"autofocus": True})
    )
    date_from = BoundedDateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = BoundedDateField(
        label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise forms.ValidationError(_("The end date is before the start date."))
        return data


class MonthForm(forms.Form):
    month = BoundedDateField(
        label=_("Month"), required=False, input_formats=["%Y-%m"], widget=forms.DateInput(attrs={"type": "month"})
    )

    def clean_month(self):
        value = self.cleaned_data.get("month")
        return value.replace(day=1) if isinstance(value, datetime.date) else value
