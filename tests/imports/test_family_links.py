"""bindings.family_links: the proof must fit the relative's age (16 or under vs over 16), one rule for all."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from bindings.family_links import (
    MSG_PROOF_FOR_ADULT,
    MSG_PROOF_FOR_CHILD,
    family_link_create,
    family_link_verification_check,
)
from bindings.models import FamilyLink
from tests import factories

TODAY = datetime.date(2026, 6, 1)


@pytest.mark.parametrize(
    ("birth", "verification", "fits"),
    [
        (datetime.date(2010, 6, 1), "birth_certificate", True),  # exactly 16: still a child
        (datetime.date(2010, 6, 1), "household_register", True),
        (datetime.date(2010, 6, 1), "notarized", True),
        (datetime.date(2010, 6, 1), "face", False),
        (datetime.date(2010, 5, 31), "face", False),  # 16 years and a day: still 16, "16 or under"
        (datetime.date(2009, 6, 2), "face", False),  # 17 tomorrow
        (datetime.date(2009, 6, 1), "face", True),  # 17
        (datetime.date(2009, 6, 1), "household_register", True),
        (datetime.date(2009, 6, 1), "birth_certificate", False),
        (datetime.date(2009, 6, 1), "notarized", False),
    ],
)
def test_family_link_verification_check(birth, verification, fits):
    reason = family_link_verification_check(birth_date=birth, verification=verification, today=TODAY)
    assert (reason is None) is fits


@pytest.mark.django_db
def test_family_link_create_checks_proof_against_age(regions):
    owner = factories.person(name="李强")
    child = factories.resident(name="李小宝", birth=datetime.date(datetime.date.today().year - 5, 1, 1))
    with pytest.raises(ValidationError) as excinfo:
        family_link_create(owner=owner, relative=child, kinship="child", verification="face")
    assert excinfo.value.messages == [MSG_PROOF_FOR_CHILD.format(age=5)]
    link = family_link_create(owner=owner, relative=child, kinship="child", verification="birth_certificate")
    assert FamilyLink.objects.get() == link
    adult = factories.person(name="李大爷", birth=datetime.date(1950, 1, 1))
    adult_age = datetime.date.today().year - 1950
    with pytest.raises(ValidationError) as excinfo:
        family_link_create(owner=owner, relative=adult, kinship="parent", verification="notarized")
    assert excinfo.value.messages == [MSG_PROOF_FOR_ADULT.format(age=adult_age)]
