"""Small builders shared by the bindings tests."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.reasons import BusinessRuleError
from bindings.models import Channel, DocumentKind
from bindings.services import DocumentUpload, authorization_create

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00" + b"\x00" * 32


def upload(name="promise.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def promise_letter(name="承诺书.pdf", content=PDF):
    return DocumentUpload(kind=DocumentKind.PROMISE_LETTER, file=upload(name, content))


def refusal(**kwargs) -> list[str]:
    """The reason codes authorization_create refuses with (it must refuse)."""
    kwargs.setdefault("channel", Channel.APP)
    kwargs.setdefault("promise_accepted", True)
    with pytest.raises(BusinessRuleError) as caught:
        authorization_create(**kwargs)
    return caught.value.codes


def days(n: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=n)
