"""Reads of people and personal accounts, shared by the admin, the API and reports."""

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from accounts.id_numbers import normalize_id_number
from accounts.models import LedgerEntry, Person


def person_get_by_id_number(id_number: str) -> Person | None:
    return Person.objects.select_related("region", "account").filter(id_number=normalize_id_number(id_number)).first()


def person_get_by_no(person_no: str) -> Person | None:
    """None for a number no person can have: a NUL character (a URL's `%00`), which PostgreSQL refuses in any text
    parameter (a DataError, so a 500, where SQLite merely finds nobody)."""
    if "\x00" in person_no:
        return None
    return Person.objects.select_related("region", "account").filter(person_no=person_no).first()


def person_balance(person: Person):
    """The balance of the person's personal account, None without one. An account kept after the roster changed the
    person to resident insurance still counts: the settlement engine pays from it (S2), so the summary must show it."""
    try:
        account = person.account
    except Person.account.RelatedObjectDoesNotExist:
        return None
    return account.balance if account is not None else None


def day_bounds(date_from: datetime.date | None, date_to: datetime.date | None):
    """Inclusive calendar days in the service's time zone (Asia/Shanghai) as aware datetimes."""
    tz = timezone.get_default_timezone()
    start = datetime.datetime.combine(date_from, datetime.time.min, tz) if date_from else None
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tz) if date_to else None
    return start, end


def ledger_entries(*, person: Person, start=None, end=None) -> QuerySet[LedgerEntry]:
    """Every entry of the person's account, newest first; `end` is exclusive."""
    qs = LedgerEntry.objects.filter(account__person=person)
    if start is not None:
        qs = qs.filter(occurred_at__gte=start)
    if end is not None:
        qs = qs.filter(occurred_at__lt=end)
    return qs.select_related("member", "institution", "settlement").order_by("-occurred_at", "-id")
