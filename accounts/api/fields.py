"""Shared API fields: two-place money strings and date/datetime range parameters."""

import datetime
import re
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from accounts.api.errors import ApiError

MONEY_TEXT_RE = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # ASCII digits only (\d admits full-width ones)


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


def parse_range_bound(value: str | None, name: str, *, end: bool):
    """`from`/`to` query values: a date (whole day, Asia/Shanghai) or an ISO datetime."""
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
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
    if day is None:
        raise ApiError(400, "INVALID_INPUT", f"参数 {name} 不是合法的日期（YYYY-MM-DD）。")
    if end:
        day = day + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time.min, timezone.get_default_timezone())
