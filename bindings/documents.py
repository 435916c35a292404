"""Scanned promise letters and proof (R10): accepted by their content, stored privately, served to staff only."""

import contextvars
import functools
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.id_numbers import scrub_id_numbers

logger = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class CheckedDocument:
    content_type: str
    extension: str
    size: int
    sha256: str
    original_name: str
    stored_name: str


def safe_original_name(name: str) -> str:
    """Only the base name is kept, for display; it is never used to store or serve the file. Scanners and clerks
    often name a scan after the person ("承诺书-320102199001011234.pdf"): an ID number in it is masked, since the
    name is shown in lists to every staff member who may read them."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    return scrub_id_numbers(base)[:200] or "upload"


def document_check(upload) -> CheckedDocument:
    """Refuse anything but a real PDF, JPEG or PNG of at most 10 MB, whatever its name says."""
    size = upload.size
    if size is None or size > MAX_DOCUMENT_BYTES:
        raise ValidationError("文件超过 10 MB，请压缩或分页扫描后再上传。", code="too_large")
    if size == 0:
        raise ValidationError("文件为空。", code="empty")
    upload.seek(0)
    head = upload.read(512)
    kind = filetype.guess(head)
    content_type = kind.mime if kind else None
    if content_type not in ALLOWED_TYPES:
        raise ValidationError("只接受 PDF、JPEG 或 PNG 格式的扫描件（按文件内容识别，不看扩展名）。", code="type")
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    extension = ALLOWED_TYPES[content_type]
    return CheckedDocument(
        content_type=content_type,
        extension=extension,
        size=size,
        sha256=digest.hexdigest(),
        original_name=safe_original_name(upload.name),
        stored_name=f"{secrets.token_hex(16)}.{extension}",
    )


# --- Files written inside a transaction that rolls back ------------------------------------------------------
# A scanned document is written to storage inside the service's transaction (the row must point to a file that
# exists). Storage is not transactional: when the transaction rolls back, the file stays with no row. Two nets:
# `atomic_removing_documents_on_error` deletes what its block wrote when an exception leaves the block (the
# block's rows are rolled back with it, savepoint or not); `bindings.services.documents_sweep_orphans` removes, on
# a schedule, what is left by a rollback after the block (an outer transaction, a failed COMMIT, a crash).

_written: contextvars.ContextVar[list | None] = contextvars.ContextVar("documents_written", default=None)


def document_written(storage, name: str) -> None:
    """Record a file stored inside the current `atomic_removing_documents_on_error` block."""
    written = _written.get()
    if written is not None:
        written.append((storage, name))


def atomic_removing_documents_on_error(func):
    """`transaction.atomic`, plus: the documents stored inside are deleted if an exception leaves the block."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        outer = _written.get()
        written: list = []
        token = _written.set(written)
        try:
            with transaction.atomic():
                result = func(*args, **kwargs)
        except BaseException:
            for storage, name in written:
                try:
                    storage.delete(name)
                except OSError:  # the sweep will find it
                    logger.warning("stored document %s not removed after a rollback", name, exc_info=True)
            raise
        finally:
            _written.reset(token)
        if outer is not None:  # nested: the enclosing block answers for these files too
            outer.extend(written)
        return result

    return wrapper
