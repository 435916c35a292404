"""Scanned promise letters and proof (R10): accepted by their content, stored privately under a random name."""

import hashlib
import io
import os
import time

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from bindings import services
from bindings.documents import MAX_DOCUMENT_BYTES, atomic_removing_documents_on_error, document_check
from bindings.models import DOCUMENTS_DIR, Authorization, AuthorizationDocument, Channel, DocumentKind, Kinship
from bindings.services import DocumentUpload, authorization_create, document_add
from tests import factories
from tests.bindings.helpers import JPEG, PDF, PNG, promise_letter, upload

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("promise.pdf", EXE, "type"),  # a Windows program renamed .pdf
        ("scan.png", HTML, "type"),  # HTML named .png
        ("scan.svg", SVG, "type"),  # SVG can carry script
        ("scan.png", SVG, "type"),
        ("big.pdf", PDF + b"\x00" * (20 * 1024 * 1024), "too_large"),  # 20 MB
        ("empty.pdf", b"", "empty"),
    ],
)
def test_refused_uploads(name, content, code):
    with pytest.raises(ValidationError) as caught:
        document_check(SimpleUploadedFile(name, content))
    assert caught.value.code == code
    assert caught.value.messages[0]


def test_just_over_the_limit_refused_just_under_accepted():
    with pytest.raises(ValidationError):
        document_check(SimpleUploadedFile("a.pdf", PDF + b"\x00" * (MAX_DOCUMENT_BYTES - len(PDF) + 1)))
    assert document_check(SimpleUploadedFile("a.pdf", PDF + b"\x00" * (MAX_DOCUMENT_BYTES - len(PDF)))).size == (
        MAX_DOCUMENT_BYTES
    )


@pytest.mark.parametrize(
    ("name", "content", "content_type", "extension"),
    [
        ("承诺书.pdf", PDF, "application/pdf", "pdf"),
        ("户口本.JPG", JPEG, "image/jpeg", "jpg"),
        ("结婚证.png", PNG, "image/png", "png"),
        ("no-extension", PDF, "application/pdf", "pdf"),  # the content decides, not the name
    ],
)
def test_accepted_uploads_record_type_size_and_sha256(name, content, content_type, extension):
    checked = document_check(SimpleUploadedFile(name, content))
    assert checked.content_type == content_type
    assert checked.size == len(content)
    assert checked.sha256 == hashlib.sha256(content).hexdigest()
    assert checked.stored_name.endswith("." + extension) and len(checked.stored_name) == 32 + 1 + len(extension)
    assert name.rsplit(".", 1)[0] not in checked.stored_name


def test_path_traversal_name_never_escapes_the_storage_dir(jiangsu_policy):
    clerk = factories.staff_user()
    grantor, member = factories.grantor(), factories.resident()
    authorization = authorization_create(
        grantor=grantor,
        member=member,
        kinship=Kinship.PARENT,
        channel=Channel.COUNTER,
        acting_user=clerk,
        documents=[DocumentUpload(kind=DocumentKind.PROMISE_LETTER, file=upload("../../etc/passwd", PDF))],
    )
    document = authorization.documents.get()
    assert document.original_name == "passwd"
    path = os.path.realpath(document.file.path)
    private = os.path.realpath(os.path.join(settings.MEDIA_ROOT, "private", "authorizations"))
    assert os.path.dirname(path) == private
    assert os.path.basename(path) == document.stored_name and "passwd" not in document.stored_name
    with open(path, "rb") as stored:
        assert stored.read() == PDF
    assert (os.stat(path).st_mode & 0o777) == 0o600
    with pytest.raises(ValueError):  # no MEDIA_URL: never reachable by a public URL
        document.file.url  # noqa: B018


def test_document_added_to_an_authorization_is_stored_and_audited(jiangsu_policy):
    clerk = factories.staff_user()
    authorization = factories.authorization(factories.grantor(), factories.resident())
    document = document_add(
        authorization=authorization,
        upload=DocumentUpload(kind=DocumentKind.HOUSEHOLD_REGISTER, file=upload("hukou.jpg", JPEG, "image/jpeg")),
        acting_user=clerk,
    )
    assert (document.content_type, document.size, document.sha256) == (
        "image/jpeg",
        len(JPEG),
        hashlib.sha256(JPEG).hexdigest(),
    )
    assert document.uploaded_by == clerk
    event = authorization.events.get(action="document_added")
    assert event.documents == [
        {"id": document.pk, "kind": "household_register", "sha256": document.sha256, "size": len(JPEG)}
    ]


def test_a_bad_file_refuses_the_whole_counter_binding(jiangsu_policy):
    clerk = factories.staff_user()
    with pytest.raises(ValidationError):
        authorization_create(
            grantor=factories.grantor(),
            member=factories.resident(),
            kinship=Kinship.PARENT,
            channel=Channel.COUNTER,
            acting_user=clerk,
            documents=[DocumentUpload(kind=DocumentKind.PROMISE_LETTER, file=upload("promise.pdf", EXE))],
        )
    assert not Authorization.objects.exists() and not AuthorizationDocument.objects.exists()


# --- Files of a rolled-back binding (R10: no scan kept without its record) ----------------------------------


def stored_files() -> set[str]:
    root = os.path.join(settings.MEDIA_ROOT, DOCUMENTS_DIR)
    return set(os.listdir(root)) if os.path.isdir(root) else set()


def test_r10_scan_removed_when_the_binding_fails_after_storing_it(jiangsu_policy, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "_event", fail)  # fails after the file is in storage
    with pytest.raises(RuntimeError):
        authorization_create(
            grantor=factories.grantor(),
            member=factories.resident(),
            kinship=Kinship.PARENT,
            channel=Channel.COUNTER,
            acting_user=factories.staff_user(),
            documents=[promise_letter(), promise_letter("户口本.pdf")],
        )
    assert not Authorization.objects.exists() and not AuthorizationDocument.objects.exists()
    assert stored_files() == set()


def test_r10_scan_added_inside_a_larger_block_that_fails_is_removed(jiangsu_policy):
    authorization = factories.authorization(factories.grantor(), factories.resident())

    @atomic_removing_documents_on_error
    def add_then_fail():
        document_add(authorization=authorization, upload=promise_letter(), acting_user=factories.staff_user())
        assert len(stored_files()) == 1
        raise RuntimeError("a later step of the same work failed")

    with pytest.raises(RuntimeError):
        add_then_fail()
    assert not AuthorizationDocument.objects.exists()
    assert stored_files() == set()


def test_r10_sweep_removes_only_old_scans_without_a_record(jiangsu_policy):
    authorization = factories.authorization(factories.grantor(), factories.resident())
    kept = document_add(authorization=authorization, upload=promise_letter(), acting_user=factories.staff_user())
    root = os.path.join(settings.MEDIA_ROOT, DOCUMENTS_DIR)
    day_old = time.time() - 25 * 3600
    for name in ("0" * 32 + ".pdf", "1" * 32 + ".pdf"):  # left by rollbacks the block did not see
        with open(os.path.join(root, name), "wb") as handle:
            handle.write(PDF)
    os.utime(os.path.join(root, "0" * 32 + ".pdf"), (day_old, day_old))
    os.utime(kept.file.path, (day_old, day_old))  # old, but its record exists

    out = io.StringIO()
    call_command("sweep_documents", "--dry-run", stdout=out)
    assert out.getvalue().splitlines() == [f"{DOCUMENTS_DIR}/{'0' * 32}.pdf", "将删除 1 个无记录的扫描件。"]
    assert len(stored_files()) == 3

    out = io.StringIO()
    call_command("sweep_documents", stdout=out)
    assert "已删除 1 个无记录的扫描件。" in out.getvalue()
    # The recent orphan may belong to a transaction still open: kept until it is old.
    assert stored_files() == {kept.stored_name, "1" * 32 + ".pdf"}
    with kept.file.open("rb") as handle:
        assert handle.read() == PDF
    with pytest.raises(CommandError):
        call_command("sweep_documents", "--older-than-hours", "0.5")


def test_an_id_number_in_the_scan_name_is_masked_before_it_is_kept(jiangsu_policy, client):
    """The original name is shown in the document list and on the authorization page to every reader."""
    clerk = factories.staff_user(factories.AUDITOR_GROUP)
    grantor, member = factories.grantor(), factories.resident()
    name = f"承诺书-{grantor.id_number}.pdf"
    authorization = authorization_create(
        grantor=grantor, member=member, kinship=Kinship.PARENT, channel=Channel.COUNTER, acting_user=clerk,
        documents=[DocumentUpload(kind=DocumentKind.PROMISE_LETTER, file=upload(name, PDF))],
    )
    document = authorization.documents.get()
    assert grantor.id_number not in document.original_name
    assert document.original_name == f"承诺书-{grantor.id_number[:6]}********{grantor.id_number[-4:]}.pdf"
    client.force_login(clerk)
    for url in ("/admin/bindings/authorizationdocument/", f"/admin/bindings/authorization/{authorization.pk}/change/"):
        assert grantor.id_number not in client.get(url).content.decode()
