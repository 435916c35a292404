"""The row rules of every import (imports.md), shared by `manage.py import_data` and the admin import pages.

A cell parser takes the stripped text of one cell and returns a Python value or raises `CellError` with a
Chinese reason. Resource specs (accounts.imports.resources) combine them per column; the pipeline
(accounts.imports.pipeline) reports each failure as `第N行 列「X」：reason`.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from accounts.id_numbers import CHECK_CHARS, WEIGHTS, IdNumberFacts

# --- Chinese reasons (constants so tests import them and fail only for the right reason) --------------
MSG_REQUIRED = "不能为空"
MSG_FORMULA = "疑似电子表格公式（以 = + - @ 开头），为防公式注入拒绝导入；如确为文本，请删除开头的符号"
MSG_TOO_LONG = "长度超过 {max} 个字符"
MSG_ID_FORMAT = "身份证号格式错误：应为 17 位数字加 1 位数字或 X"
MSG_ID_BIRTH = "身份证号中的出生日期不存在"
MSG_ID_CHECKSUM = "身份证号校验位错误"
MSG_REGION_CODE = "区划代码应为 6 位数字（首位不为 0）"
MSG_REGION_UNKNOWN = "区划代码「{code}」不存在，请先导入区划"
MSG_DATE = "「{value}」不是有效日期，应为 YYYY-MM-DD"
MSG_MONEY = "「{value}」不是有效金额，应为最多两位小数的数字"
MSG_CHOICE = "「{value}」不是有效取值，可选：{options}"
MSG_BOOL = "「{value}」应为「是」或「否」"
MSG_DUPLICATE = "与第{line}行重复"
MSG_DUPLICATE_IN_FILE = "在文件中重复出现"

# ASCII digits only: \d also matches full-width and other Unicode digits, which int() and Decimal() would accept
# and the database's shape checks then refuse.
NUMBER_RE = re.compile(r"[+-][0-9\s.,]*")
REGION_CODE_RE = re.compile(r"[1-9][0-9]{5}")
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ID_RE = re.compile(r"[0-9]{17}[0-9X]")
MONEY_RE = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")  # plain decimal notation: no exponent ("1e2"), no separators
CENT = Decimal("0.01")


class CellError(ValueError):
    """A cell's value breaks a rule; `message` is the Chinese reason shown to staff."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self):
        if self.column:
            return f"第{self.line}行 列「{self.column}」：{self.message}"
        return f"第{self.line}行：{self.message}"


def person_no_key(person_no: str):
    """The in-file duplicate key of a 人员编号: an int for plain ASCII digits without a leading zero (a set of ints is
    far smaller than one of strings for a million rows), else the text itself ("007" and "7" are two numbers)."""
    if person_no.isascii() and person_no.isdigit() and person_no[0] != "0":
        return int(person_no)
    return person_no


def looks_like_formula(value: str) -> bool:
    """CSV/formula injection (OWASP): `=`, `@` always; `+`/`-` unless the rest is a plain number (-12.50)."""
    if not value:
        return False
    first = value[0]
    if first in "=@":
        return True
    if first in "+-":
        return not NUMBER_RE.fullmatch(value)
    return False


def text(value: str, *, max_length: int | None = None, required: bool = True) -> str:
    if not value:
        if required:
            raise CellError(MSG_REQUIRED)
        return ""
    if max_length is not None and len(value) > max_length:
        raise CellError(MSG_TOO_LONG.format(max=max_length))
    return value


def id_number(value: str) -> tuple[str, IdNumberFacts]:
    """GB 11643 ID number, checksum verified (same rule as accounts.id_numbers.parse_id_number)."""
    if not value:
        raise CellError(MSG_REQUIRED)
    number = value.upper()
    if not ID_RE.fullmatch(number):
        raise CellError(MSG_ID_FORMAT)
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise CellError(MSG_ID_BIRTH) from None
    if birth.year < 1900 or birth > datetime.date.today():
        raise CellError(MSG_ID_BIRTH)
    total = 0
    for digit, weight in zip(number[:17], WEIGHTS, strict=True):
        total += (ord(digit) - 48) * weight
    if CHECK_CHARS[total % 11] != number[17]:
        raise CellError(MSG_ID_CHECKSUM)
    sex = "1" if (ord(number[16]) - 48) % 2 == 1 else "2"
    return number, IdNumberFacts(birth_date=birth, sex=sex)


def region_code(value: str, known: set[str] | None = None) -> str:
    if not value:
        raise CellError(MSG_REQUIRED)
    if not REGION_CODE_RE.fullmatch(value):
        raise CellError(MSG_REGION_CODE)
    if known is not None and value not in known:
        raise CellError(MSG_REGION_UNKNOWN.format(code=value))
    return value


def date(value: str, *, required: bool = True) -> datetime.date | None:
    if not value:
        if required:
            raise CellError(MSG_REQUIRED)
        return None
    if not DATE_RE.fullmatch(value):
        raise CellError(MSG_DATE.format(value=value))
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CellError(MSG_DATE.format(value=value)) from None


# Money columns hold 14 digits, 2 of them decimals (accounts.models.MONEY): an amount or a balance stays below this.
MONEY_LIMIT = Decimal("1e12")


def money(value: str) -> Decimal:
    if not value:
        raise CellError(MSG_REQUIRED)
    if not MONEY_RE.fullmatch(value):
        raise CellError(MSG_MONEY.format(value=value))
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise CellError(MSG_MONEY.format(value=value)) from None
    if not amount.is_finite() or amount != amount.quantize(CENT) or abs(amount) >= MONEY_LIMIT:
        raise CellError(MSG_MONEY.format(value=value))
    return amount.quantize(CENT)


def choice(value: str, mapping: dict[str, str], *, required: bool = True, options: str | None = None) -> str:
    if not value:
        if required:
            raise CellError(MSG_REQUIRED)
        return ""
    try:
        return mapping[value]
    except KeyError:
        shown = options or " | ".join(k for k in mapping if not k.isascii())
        raise CellError(MSG_CHOICE.format(value=value, options=shown)) from None


YES_NO = {"是": True, "否": False}


def boolean(value: str) -> bool:
    if not value:
        raise CellError(MSG_REQUIRED)
    try:
        return YES_NO[value]
    except KeyError:
        raise CellError(MSG_BOOL.format(value=value)) from None
