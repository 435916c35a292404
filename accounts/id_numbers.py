"""Resident ID numbers (居民身份证号码, GB 11643-1999) and masking of personal data."""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_NUMBER_RE = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII digits only (\d admits full-width ones)
# Used to scrub log lines: 18-character ID numbers anywhere in a text.
ID_NUMBER_IN_TEXT_RE = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")


@dataclass(frozen=True)
class IdNumberFacts:
    birth_date: datetime.date
    sex: str  # "1" male, "2" female (GB/T 2261.1)


def check_character(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalize_id_number(value: str) -> str:
    return (value or "").strip().upper()


def parse_id_number(value: str) -> IdNumberFacts:
    """Validate an 18-character ID number and return what it encodes.

    Raises ValidationError with a Chinese message: wrong shape, impossible birth date or a
    check character that does not match the GB 11643 checksum.
    """
    number = normalize_id_number(value)
    if not ID_NUMBER_RE.match(number):
        raise ValidationError(_("ID number must be 17 digits followed by a digit or X."), code="format")
    try:
        birth_date = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("ID number contains an impossible birth date."), code="birth_date") from None
    if birth_date.year < 1900 or birth_date > datetime.date.today():
        raise ValidationError(_("ID number contains an impossible birth date."), code="birth_date")
    if check_character(number[:17]) != number[17]:
        raise ValidationError(_("ID number check character is wrong."), code="checksum")
    sex = "1" if int(number[16]) % 2 == 1 else "2"
    return IdNumberFacts(birth_date=birth_date, sex=sex)


def validate_id_number(value: str) -> None:
    parse_id_number(value)


def mask_id_number(value: str) -> str:
    """320102********1234: region code and last four kept (api.md)."""
    if not value:
        return value
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


# Compound surnames (复姓): the mask keeps the whole surname, so 欧阳娜 is 欧阳*, not 欧** (api.md: 张* / 欧阳**).
COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒", "夏侯", "令狐",
        "端木", "独孤", "南宫", "西门", "轩辕", "呼延", "澹台", "公冶", "太叔", "申屠", "钟离", "闾丘", "濮阳", "淳于",
        "单于", "百里", "东郭", "南门", "羊舌", "万俟", "司空", "亓官", "司寇", "左丘", "拓跋", "第五", "赫连", "公羊",
        "梁丘", "公良", "乐正", "漆雕", "壤驷", "宗政", "巫马", "谷梁", "段干", "东门", "仲孙", "叔孙", "颛孙", "微生",
        "鲜于", "子车",
    }
)  # fmt: skip


def mask_name(value: str) -> str:
    """张三 → 张*, 王小明 → 王**, 欧阳娜 → 欧阳*, 欧阳娜娜 → 欧阳**: the surname kept (a compound one whole)."""
    if not value:
        return value
    keep = 2 if len(value) >= 3 and value[:2] in COMPOUND_SURNAMES else 1
    return value[:keep] + "*" * (len(value) - keep)


def scrub_id_numbers(text: str) -> str:
    return ID_NUMBER_IN_TEXT_RE.sub(lambda m: m.group(1) + "********" + m.group(2), text)
