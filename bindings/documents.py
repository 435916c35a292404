"""Scanned promise letters and proof (R10): accepted by their content, stored privately, served to staff only."""

import hashlib
import os
import secrets
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError

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
    """Only the base name is kept, for display; it is never used to store or serve the file."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    return base[:200] or "upload"


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
