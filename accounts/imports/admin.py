"""Admin import pages: upload → preview (a dry run listing every bad row in Chinese, with counts) → confirm.

The pages run the same pipeline as `manage.py import_data` (accounts.imports.pipeline.run_import), so the
row rules are written once. Wiring, in an app's admin.py:

    @admin.register(Person)
    class PersonAdmin(ImportAdminMixin, admin.ModelAdmin):
        import_resource = "persons"

The mixin adds `<changelist>/import/` (URL name `admin:<app>_<model>_import`) and an "Import" button on the
change list (django-import-export's change-list template). Only users holding the model's add permission
may import (policies and institutions: supervisors only, through the groups of migration accounts 0004).
"""

import datetime
import secrets
import time
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from accounts.imports.pipeline import run_import
from accounts.imports.reading import ImportFileError
from accounts.imports.resources import RESOURCES

SESSION_KEY = "imports_pending"
MAX_SHOWN_ERRORS = 500

IMPORT_PAGE = """{% extends "admin/base_site.html" %}
{% load i18n admin_urls %}
{% block breadcrumbs %}<div class="breadcrumbs">
<a href="{% url 'admin:index' %}">{% translate 'Home' %}</a>
&rsaquo; <a href="{% url 'admin:app_list' app_label=opts.app_label %}">{{ opts.app_config.verbose_name }}</a>
&rsaquo; <a href="{% url opts|admin_urlname:'changelist' %}">{{ opts.verbose_name_plural|capfirst }}</a>
&rsaquo; {{ title }}</div>{% endblock %}
{% block content %}<div id="content-main">
<p>{{ columns_help }}</p>
{% if file_error %}<ul class="errorlist"><li>{{ file_error }}</li></ul>{% endif %}
{% if report %}
  <h2>{{ preview_title }}{% if file_name %}：{{ file_name }}{% endif %}</h2>
  {% if report.errors %}<h3>{{ errors_title }}</h3><ul class="errorlist import-errors">
    {% for line in error_lines %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
  <p class="import-outcome">{% for line in outcome_lines %}{{ line }}<br>{% endfor %}</p>
  <p class="import-summary"><strong>{{ report.summary }}</strong></p>
  {% if report.ok and token %}
    <form method="post">{% csrf_token %}<input type="hidden" name="token" value="{{ token }}">
    <input type="submit" class="default" name="confirm" value="{{ confirm_label }}"></form>
  {% endif %}
{% endif %}
<form method="post" enctype="multipart/form-data">{% csrf_token %}
<fieldset class="module aligned">{{ form.as_div }}</fieldset>
<div class="submit-row"><input type="submit" class="default" value="{{ upload_label }}"></div>
</form></div>{% endblock %}
"""


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("File (CSV or XLSX)"))


# A previewed file waits for its confirmation under MEDIA_ROOT/private/imports. It holds a whole roster (ID numbers,
# names, phone numbers): one the clerk never confirms (left the page, session ended) is deleted after this long.
PENDING_MAX_AGE = datetime.timedelta(hours=24)


def _pending_dir() -> Path:
    directory = Path(settings.MEDIA_ROOT) / "private" / "imports"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def pending_imports_sweep(*, older_than: datetime.timedelta = PENDING_MAX_AGE, dry_run: bool = False) -> list[str]:
    """Delete previewed import files never confirmed and last written before `older_than` ago; their (random) names.
    Run by every preview and by `sweep_documents`."""
    directory = Path(settings.MEDIA_ROOT) / "private" / "imports"
    if not directory.is_dir():
        return []
    cutoff = time.time() - older_than.total_seconds()
    stale = sorted(path for path in directory.iterdir() if path.is_file() and path.stat().st_mtime < cutoff)
    if not dry_run:
        for path in stale:
            path.unlink(missing_ok=True)
    return [path.name for path in stale]


class ImportAdminMixin:
    """Admin mixin adding the import page for `import_resource` (a name from imports.md)."""

    import_resource: str | None = None
    change_list_template = "admin/import_export/change_list_import.html"

    # --- permission and URLs ------------------------------------------------------------------------------
    def has_import_permission(self, request) -> bool:
        if not self.import_resource:
            return False
        codename = get_permission_codename("add", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="{}_{}_import".format(*info)),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            "has_import_permission": self.has_import_permission(request),
            "ie_base_change_list_template": "admin/change_list.html",
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    # --- the page -----------------------------------------------------------------------------------------
    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST" and request.POST.get("token"):
            return self._import_confirm(request, request.POST["token"])
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            return self._import_preview(request, form)
        return self._render(request, form)

    def _import_preview(self, request, form):
        pending_imports_sweep()
        upload = form.cleaned_data["file"]
        token = secrets.token_urlsafe(16)
        stored = _pending_dir() / token
        with stored.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        stored.chmod(0o600)
        try:
            with stored.open("rb") as stream:
                report = run_import(self.import_resource, stream, filename=upload.name, dry_run=True,
                                    acting_user=request.user)  # fmt: skip
        except ImportFileError as exc:
            stored.unlink(missing_ok=True)
            return self._render(request, form, file_error=exc.message)
        if not report.ok:
            stored.unlink(missing_ok=True)
            token = None
        else:
            pending = request.session.get(SESSION_KEY, {})
            pending[token] = {"resource": self.import_resource, "name": upload.name}
            request.session[SESSION_KEY] = pending
        return self._render(request, ImportUploadForm(), report=report, token=token, file_name=upload.name)

    def _import_confirm(self, request, token):
        pending = request.session.get(SESSION_KEY, {})
        entry = pending.pop(token, None) if token.replace("-", "").replace("_", "").isalnum() else None
        stored = _pending_dir() / token if entry else None
        if entry is None or entry["resource"] != self.import_resource or not stored.is_file():
            messages.error(request, "导入文件已失效，请重新上传。")
            return HttpResponseRedirect(request.path)
        request.session[SESSION_KEY] = pending
        try:
            with stored.open("rb") as stream:
                report = run_import(self.import_resource, stream, filename=entry["name"], acting_user=request.user)
        except ImportFileError as exc:
            return self._render(request, ImportUploadForm(), file_error=exc.message)
        finally:
            stored.unlink(missing_ok=True)
        if not report.ok:
            return self._render(request, ImportUploadForm(), report=report, file_name=entry["name"])
        messages.success(request, f"{report.outcome} {report.summary}")
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_changelist")
        )

    def _render(self, request, form, *, report=None, token=None, file_name="", file_error=""):
        spec = RESOURCES[self.import_resource]
        columns = "、".join(f"{c.label}{'' if c.required else '（可选）'}" for c in spec.columns)
        outcome_lines = []
        if report is not None:
            outcome_lines = [
                line for line in report.lines()[len(report.error_lines_sorted()) :] if line != report.summary
            ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{_('Import')}：{spec.title}",
            "form": form,
            "report": report,
            "error_lines": report.error_lines_sorted()[:MAX_SHOWN_ERRORS] if report else [],
            "outcome_lines": outcome_lines,
            "token": token,
            "file_name": file_name,
            "file_error": file_error,
            # Not inside an f-string: xgettext does not read those, and the label stayed in English.
            "columns_help": "{}：{}".format(_("Columns"), columns),
            "preview_title": _("Preview"),
            "errors_title": _("Errors"),
            "confirm_label": _("Confirm import"),
            "upload_label": _("Upload and preview"),
        }
        template = engines["django"].from_string(IMPORT_PAGE)
        return TemplateResponse(request, template, context)
