"""ImportAdminMixin: upload → preview (dry run, errors in Chinese, counts) → confirm, on a throwaway AdminSite."""

import pytest
from django.contrib import admin
from django.urls import path, reverse

from accounts.imports.admin import ImportAdminMixin
from accounts.models import Person
from bindings.models import Policy
from tests import factories
from tests.imports.conftest import PERSON_HEADER, person_row, write_csv, write_xlsx

site = admin.AdminSite(name="imports_test")


class PersonImportAdmin(ImportAdminMixin, admin.ModelAdmin):
    import_resource = "persons"


class PolicyImportAdmin(ImportAdminMixin, admin.ModelAdmin):
    import_resource = "policies"


site.register(Person, PersonImportAdmin)
site.register(Policy, PolicyImportAdmin)
urlpatterns = [path("admin/", site.urls)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.imports.test_admin_import")]

IMPORT_URL = "imports_test:accounts_person_import"


def _login(client, group):
    user = factories.staff_user(group)
    client.force_login(user)
    return user


def _upload(client, url, path):
    with path.open("rb") as handle:
        return client.post(reverse(url), {"file": handle})


def test_counter_clerk_previews_then_confirms(client, regions, tmp_path):
    _login(client, factories.COUNTER_GROUP)
    changelist = client.get(reverse("imports_test:accounts_person_changelist"))
    assert reverse(IMPORT_URL) in changelist.content.decode()
    assert client.get(reverse(IMPORT_URL)).status_code == 200
    csv_path = write_csv(tmp_path / "roster.csv", [PERSON_HEADER, person_row(), person_row()])
    preview = _upload(client, IMPORT_URL, csv_path)
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "新增 2、更新 0、未变 0、错误 0" in body and 'name="token"' in body
    assert not Person.objects.exists()  # the preview is a dry run
    token = preview.context["token"]
    confirmed = client.post(reverse(IMPORT_URL), {"token": token})
    assert confirmed.status_code == 302
    assert Person.objects.count() == 2
    again = client.post(reverse(IMPORT_URL), {"token": token})  # a token is used once
    assert again.status_code == 302 and Person.objects.count() == 2


def test_preview_lists_errors_in_chinese_and_offers_no_confirm(client, regions, tmp_path):
    _login(client, factories.COUNTER_GROUP)
    bad = person_row()
    bad[0] = bad[0][:17] + ("0" if bad[0][17] != "0" else "1")
    preview = _upload(client, IMPORT_URL, write_csv(tmp_path / "bad.csv", [PERSON_HEADER, person_row(), bad]))
    body = preview.content.decode()
    assert "第3行 列「身份证号」：身份证号校验位错误" in body
    assert "错误 1" in body and 'name="token"' not in body
    assert not Person.objects.exists()


def test_file_level_error_shown_not_a_traceback(client, regions, tmp_path):
    _login(client, factories.COUNTER_GROUP)
    fake = tmp_path / "roster.xlsx"
    fake.write_text("not a workbook")
    body = _upload(client, IMPORT_URL, fake).content.decode()
    assert "不是 Excel 工作簿" in body


def test_xlsx_preview_and_confirm(client, regions, tmp_path):
    _login(client, factories.COUNTER_GROUP)
    preview = _upload(client, IMPORT_URL, write_xlsx(tmp_path / "roster.xlsx", [PERSON_HEADER, person_row()]))
    assert "新增 1" in preview.content.decode()
    client.post(reverse(IMPORT_URL), {"token": preview.context["token"]})
    assert Person.objects.count() == 1


def test_without_add_permission_no_import(client, regions):
    _login(client, factories.AUDITOR_GROUP)
    assert client.get(reverse(IMPORT_URL)).status_code == 403
    changelist = client.get(reverse("imports_test:accounts_person_changelist"))
    assert reverse(IMPORT_URL) not in changelist.content.decode()


def test_policies_import_is_for_supervisors_only(client, regions, tmp_path):
    url = "imports_test:bindings_policy_import"
    _login(client, factories.COUNTER_GROUP)
    assert client.get(reverse(url)).status_code == 403
    _login(client, factories.SUPERVISOR_GROUP)
    header = ["区划代码", "生效日期", "共济亲属范围", "地域范围", "配偶需确认", "限一个共济关系"]
    path_ = write_csv(tmp_path / "p.csv", [header, ["320000", "2025-01-01", "配偶、父母、子女", "省内", "是", "是"]])
    preview = _upload(client, url, path_)
    assert "新增 1" in preview.content.decode()
    client.post(reverse(url), {"token": preview.context["token"]})
    assert Policy.objects.count() == 1


def test_a_preview_never_confirmed_is_deleted_after_a_day(client, regions, tmp_path, settings):
    """The previewed file is a whole roster (ID numbers, names, phones): left unconfirmed, it must not stay in
    MEDIA_ROOT for ever. The next preview and `sweep_documents` delete those older than 24 hours."""
    import os
    import time
    from pathlib import Path

    from django.core.management import call_command

    _login(client, factories.COUNTER_GROUP)
    csv_path = write_csv(tmp_path / "roster.csv", [PERSON_HEADER, person_row()])
    abandoned = _upload(client, IMPORT_URL, csv_path).context["token"]
    pending = Path(settings.MEDIA_ROOT) / "private" / "imports"
    assert (pending / abandoned).is_file()
    day_old = time.time() - 25 * 3600
    os.utime(pending / abandoned, (day_old, day_old))

    fresh = _upload(client, IMPORT_URL, csv_path).context["token"]  # another clerk's preview, minutes later
    assert not (pending / abandoned).exists()
    assert (pending / fresh).is_file()  # a recent preview waits for its confirmation

    os.utime(pending / fresh, (day_old, day_old))
    call_command("sweep_documents")
    assert not (pending / fresh).exists()
