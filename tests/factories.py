"""Test data built through the real services (style.md #9): people through person_create, money through
the ledger services, authorizations through authorization_create."""

import datetime
import itertools
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.id_numbers import check_character
from accounts.models import InsuranceStatus, InsuranceType, LedgerEntryKind, Region
from accounts.services import account_credit, person_create
from bindings.models import NEAR_RELATIVES, Channel, GeographicScope, Policy

_serial = itertools.count(1)
_rng = random.Random(20261127)

COUNTER_GROUP = "窗口经办"
SUPERVISOR_GROUP = "业务主管"
AUDITOR_GROUP = "稽核"


def id_number(*, region_code: str = "320502", birth: datetime.date | None = None, sex: str | None = None) -> str:
    """A valid, unique-per-run 18-character ID number (GB 11643)."""
    birth = birth or datetime.date(1960, 1, 1) + datetime.timedelta(days=_rng.randrange(0, 365 * 45))
    serial = next(_serial) % 1000
    third = serial % 10
    if sex is not None:
        third = (third // 2) * 2 + (1 if sex == "1" else 0)
    first17 = f"{region_code}{birth:%Y%m%d}{serial // 10:02d}{third}"
    return first17 + check_character(first17)


def region(code: str, name: str | None = None) -> Region:
    obj, _ = Region.objects.get_or_create(code=code, defaults={"name": name or f"区划{code}"})
    if not obj.code.endswith("0000"):
        Region.objects.get_or_create(code=obj.code[:2] + "0000", defaults={"name": f"省{obj.code[:2]}"})
    return obj


def person(
    *,
    name: str = "张伟",
    region_code: str = "320500",
    insurance_type: str = InsuranceType.EMPLOYEE,
    insurance_status: str = InsuranceStatus.NORMAL,
    balance: Decimal | str | int = 0,
    birth: datetime.date | None = None,
    category: str = "",
    id_number_value: str | None = None,
):
    """A person through person_create; `balance` is credited as an opening-balance ledger entry."""
    area = region(region_code)
    created = person_create(
        id_number=id_number_value or id_number(region_code=region_code[:4] + "02", birth=birth),
        name=name,
        insurance_type=insurance_type,
        insurance_status=insurance_status,
        region=area,
        category=category,
    )
    if Decimal(str(balance)) > 0:
        account_credit(account=created.account, amount=Decimal(str(balance)), kind=LedgerEntryKind.OPENING)
    return created


def grantor(**kwargs):
    kwargs.setdefault("name", "王建国")
    kwargs.setdefault("balance", Decimal("1000.00"))
    return person(**kwargs)


def resident(**kwargs):
    kwargs.setdefault("name", "李秀英")
    kwargs.setdefault("insurance_type", InsuranceType.RESIDENT)
    return person(**kwargs)


def policy(
    region_code: str = "320000",
    *,
    effective_from: datetime.date = datetime.date(2025, 1, 1),
    kinships=None,
    scope: str = GeographicScope.PROVINCE,
    spouse_confirmation: bool = True,
    single_relationship: bool = True,
) -> Policy:
    return Policy.objects.create(
        region=region(region_code),
        effective_from=effective_from,
        kinships=list(kinships if kinships is not None else NEAR_RELATIVES),
        scope=scope,
        spouse_confirmation=spouse_confirmation,
        single_relationship=single_relationship,
    )


def institution(*, code: str, region, kind: str = "medical", name: str = "苏州市立医院", designated: bool = True):
    from settlements.models import Institution

    return Institution.objects.create(code=code, name=name, kind=kind, region=region, designated=designated)


def api_client(*, role: str, institution=None, name: str | None = None):
    from accounts.clients import api_client_create

    return api_client_create(
        name=name or f"{role}-{next(_serial)}", role=role, institution_code=institution.code if institution else None
    )


def authorization(grantor, member, kinship: str = "parent", *, channel: str = Channel.APP, **kwargs):
    from bindings.services import authorization_create

    kwargs.setdefault("promise_accepted", True)
    return authorization_create(grantor=grantor, member=member, kinship=kinship, channel=channel, **kwargs)


def staff_user(group_name: str | None = COUNTER_GROUP, *, username: str | None = None, superuser: bool = False):
    user = get_user_model().objects.create_user(
        username=username or f"clerk{next(_serial)}",
        password="Passw0rd!2026",
        is_staff=True,
        is_superuser=superuser,
    )
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    return user


def now():
    return timezone.now()
