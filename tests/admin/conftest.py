import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories

PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def pdf(name="promise.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def login(client, group):
    user = factories.staff_user(group)
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def counter(client, db):
    return login(client, factories.COUNTER_GROUP)


@pytest.fixture
def supervisor(client, db):
    return login(client, factories.SUPERVISOR_GROUP)


@pytest.fixture
def auditor(client, db):
    return login(client, factories.AUDITOR_GROUP)


@pytest.fixture
def family(db, jiangsu_policy):
    """A grantor with 1000.00 in Suzhou, his resident mother and an employee wife in the same province."""
    grantor = factories.grantor(name="王建国", region_code="320500")
    mother = factories.resident(name="李秀英", region_code="320500")
    wife = factories.person(name="陈静", region_code="320100", balance=0)
    return grantor, mother, wife
