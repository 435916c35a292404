"""English left on staff pages: the import page's column line, the document-access log (the auditors' page), Django's
own table headers and error title, the 403 page, and a person's 姓名 (not 名称, the word for a region's name)."""

import re

import pytest
from django.urls import reverse

from bindings.models import DocumentAccess, DocumentKind
from bindings.services import DocumentUpload, document_open
from tests import factories
from tests.admin.conftest import pdf

pytestmark = pytest.mark.django_db


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_import_page_names_its_columns_in_chinese(counter):
    text = visible_text(counter.get("/admin/accounts/person/import/").content.decode())
    assert "表头列：身份证号" in text and "Columns" not in text


def test_document_access_log_is_labelled_in_chinese(auditor, jiangsu_policy):
    authorization = factories.authorization(factories.grantor(), factories.resident(), "parent",
                                            documents=[DocumentUpload(kind=DocumentKind.PROMISE_LETTER, file=pdf())])
    document_open(document=authorization.documents.get(), user=auditor.user, remote_addr="10.0.0.8").close()
    access = DocumentAccess.objects.get()
    for url in ("/admin/bindings/documentaccess/", f"/admin/bindings/documentaccess/{access.pk}/change/"):
        text = visible_text(auditor.get(url).content.decode())
        assert "查阅时间" in text and "查阅人" in text and "IP 地址" in text
        assert "Accessed at" not in text and "Remote addr" not in text
    assert auditor.user.get_username() in str(access)


def test_no_english_table_headers_or_error_title(counter, region_suzhou):
    index = visible_text(counter.get(reverse("admin:index")).content.decode())
    assert "Model name" not in index and "Change or view list link" not in index
    response = counter.post(reverse("admin:accounts_person_add"), {"id_number": "x"})
    assert "<title>错误：" in response.content.decode()


def test_a_refused_page_explains_itself_in_chinese(auditor):
    response = auditor.get(reverse("admin:bindings_authorization_bind"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "无权访问" in html and "Forbidden" not in html


def test_a_person_has_a_full_name_not_a_designation(counter, region_suzhou):
    person = factories.person()
    form_page = counter.get(reverse("admin:accounts_person_change", args=[person.pk])).content.decode()
    assert '<label class="required" for="id_name">姓名' in form_page
    listing = visible_text(counter.get(reverse("admin:accounts_person_changelist")).content.decode())
    assert "姓名" in listing


