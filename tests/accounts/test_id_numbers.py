"""GB 11643 ID numbers: checksum, derived facts, masking (domain.md "People and accounts")."""

import datetime
import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from faker import Faker
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accounts.id_numbers import (
    CHECK_CHARS,
    check_character,
    mask_id_number,
    mask_name,
    parse_id_number,
    scrub_id_numbers,
)
from accounts.logging import MaskIdNumbersFilter
from accounts.models import Person
from tests import factories

FAKE = Faker("zh_CN")
birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2025, 12, 31))
regions = st.from_regex(r"[1-9][0-9]{5}", fullmatch=True)
serials = st.from_regex(r"[0-9]{3}", fullmatch=True)


def build(region: str, birth: datetime.date, serial: str) -> str:
    first17 = f"{region}{birth:%Y%m%d}{serial}"
    return first17 + check_character(first17)


@given(regions, birth_dates, serials)
def test_checksum_round_trip_and_derived_facts(region, birth, serial):
    number = build(region, birth, serial)
    facts = parse_id_number(number)
    assert facts.birth_date == birth
    assert facts.sex == ("1" if int(serial[2]) % 2 else "2")


@given(regions, birth_dates, serials, st.sampled_from(CHECK_CHARS))
def test_any_other_check_character_is_refused(region, birth, serial, wrong):
    number = build(region, birth, serial)
    assume(wrong != number[-1])
    with pytest.raises(ValidationError) as error:
        parse_id_number(number[:17] + wrong)
    assert error.value.code == "checksum"


@given(regions, birth_dates, serials, st.integers(0, 16), st.integers(1, 9))
def test_a_single_changed_digit_is_detected(region, birth, serial, position, delta):
    number = build(region, birth, serial)
    digit = (int(number[position]) + delta) % 10
    changed = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(ValidationError):
        parse_id_number(changed)


@settings(max_examples=300)
@given(st.integers(0, 2**32 - 1))
def test_cross_checked_against_fakers_zh_cn_generator(seed):
    fake = FAKE
    fake.seed_instance(seed)
    number = fake.ssn()
    facts = parse_id_number(number)
    assert facts.birth_date == datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11010519491231002", "format"),  # 17 characters
        ("11010519491231002XX", "format"),
        ("1101051949123100A2", "format"),
        ("110105194902300021", "birth_date"),  # 30 February
        ("110105189912310021", "birth_date"),  # before 1900
        ("110105209912310021", "birth_date"),  # in the future
    ],
)
def test_malformed_id_numbers_refused_with_their_reason(value, code):
    with pytest.raises(ValidationError) as error:
        parse_id_number(value)
    assert error.value.code == code


def test_lower_case_x_is_normalised():
    number = next(
        n for n in (build("110105", datetime.date(1949, 12, 31), f"{i:03d}") for i in range(1000)) if n.endswith("X")
    )
    assert parse_id_number(number.lower()) == parse_id_number(number)


def test_masking_keeps_region_and_last_four():
    assert mask_id_number("320102199001011234") == "320102********1234"


@pytest.mark.parametrize(("name", "masked"), [("张三", "张*"), ("王小明", "王**"), ("欧阳娜娜", "欧阳**"), ("", "")])
def test_name_masking(name, masked):
    assert mask_name(name) == masked


def test_log_records_never_carry_an_id_number():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "lookup %s failed", ("320102199001011234",), None)
    MaskIdNumbersFilter().filter(record)
    assert "199001011234" not in record.getMessage()
    assert "320102********1234" in record.getMessage()
    assert scrub_id_numbers("id=32010219900101123X.") == "id=320102********123X."


@pytest.mark.django_db
@pytest.mark.parametrize(
    "value, accepted",
    [
        ("320502198001011234", True),
        ("32050219800101123X", True),
        ("32050219800101123x", False),  # stored upper-case only
        ("3205021980010112X4", False),  # X only as the check character
        ("X20502198001011234", False),
        ("32050219800101123", False),  # 17 characters
        ("3205021980010112345", False),  # 19 (PostgreSQL's varchar(18) refuses it too)
        ("32050219800101 234", False),
        ("３２０５０２１９８００１０１１２３４", False),  # full-width digits
        ("", False),
    ],
)
def test_database_checks_the_id_number_shape(value, accepted):
    """The person_id_number_shape constraint, without the model's validators (a raw UPDATE), on both databases."""
    person = factories.person()
    if accepted:
        Person.objects.filter(pk=person.pk).update(id_number=value)
        assert Person.objects.get(pk=person.pk).id_number == value
    else:
        with pytest.raises((IntegrityError, DataError)), transaction.atomic():
            Person.objects.filter(pk=person.pk).update(id_number=value)
