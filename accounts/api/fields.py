"""Shared API fields: two-place money strings and date/datetime range parameters."""

import datetime
import re
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.errors import ApiError

MONEY_TEXT_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # ASCII digits only (\d admits full-width ones)


@extend_schema_field(
    # Not DecimalField's generated pattern, which admits a minus sign (and an empty string) that is a 400 here.
    {"type": "string", "format": "decimal", "pattern": r"^[0-9]{1,12}(\.[0-9]{1,2})?$", "example": "12.30"}
)
class MoneyField(serializers.DecimalField):
    """A decimal string with at most two places, never negative, never a float (api.md).

    Amounts travel as decimal strings ("12.30", "12.3", "12"): a JSON number (float or integer) is refused,
    and so are exponent forms ("1e2"), NaN and Infinity, which are not plain decimal strings.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0"))
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError('金额必须是字符串形式的十进制数，例如 "12.30"。', code="invalid")
        data = data.strip()
        if data.startswith("-") and MONEY_TEXT_RE.fullmatch(data):
            # Any minus sign is a negative amount (api.md), "-0.00" too: it would be echoed back as "-0.00".
            raise serializers.ValidationError("金额不得为负数。", code="min_value")
        if not MONEY_TEXT_RE.fullmatch(data):
            raise serializers.ValidationError("金额不是合法的数字。", code="invalid")
        value = super().to_internal_value(data)
        return value.quantize(Decimal("0.01"))


class StringField(serializers.CharField):
    """A CharField that takes JSON strings only. DRF's turns a number into its digits, so an ID number sent as the JSON
    number 320102199001011234 was read as the string (an 18-digit number fits), where `IdNumberField` (bindings) and
    the schema (`type: string`) refuse it."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class DateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, with a naive time that is out of range once read as Asia/Shanghai time refused as input.

    A naive value is made aware in the service's time zone and DRF then checks it through UTC: for the first hours of
    0001-01-01 (Shanghai is ahead of UTC) that conversion overflows, which DRF does not catch (an aware value it does
    catch, as `overflow`). Without this, `"0001-01-01T00:00:00"` in a body was a 500."""

    def enforce_timezone(self, value):
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")


# The instants a database column can hold; a range bound beyond them stands for "no bound" on that side.
_UTC_MIN = datetime.datetime.min.replace(tzinfo=datetime.UTC)
_UTC_MAX = datetime.datetime.max.replace(tzinfo=datetime.UTC)


def _storable(moment: datetime.datetime) -> datetime.datetime:
    """`moment` in UTC, as the database compares it; one before 0001-01-01 or after 9999-12-31 UTC (a date at the edge
    of the calendar with an offset) is clamped to that edge: no ledger entry lies beyond it."""
    try:
        return moment.astimezone(datetime.UTC)
    except OverflowError:
        return _UTC_MIN if moment.year == datetime.MINYEAR else _UTC_MAX


def parse_range_bound(value: str | None, name: str, *, end: bool):
    """`from`/`to` query values: a date (whole day, Asia/Shanghai) or an ISO datetime. Any date of the calendar is
    accepted, `0001-01-01` and `9999-12-31` too (the latter's exclusive end is the end of time)."""
    value = (value or "").strip()
    if not value:
        return None
    # A plain date is a whole day (`to=2026-03-01` includes that day); parse_datetime would read it as
    # midnight, so dates are recognised first.
    try:
        day = parse_date(value) if len(value) == 10 else None
        moment = None if day else parse_datetime(value)
    except ValueError:  # well formed but impossible, e.g. 2026-02-30
        day = moment = None
    if day is None and moment is not None:
        return _storable(moment if timezone.is_aware(moment) else timezone.make_aware(moment))
    if day is None:
        raise ApiError(400, "INVALID_INPUT", f"参数 {name} 不是合法的日期（YYYY-MM-DD）。")
    if end:
        if day == datetime.date.max:
            return _UTC_MAX
        day = day + datetime.timedelta(days=1)
    return _storable(datetime.datetime.combine(day, datetime.time.min, timezone.get_default_timezone()))
