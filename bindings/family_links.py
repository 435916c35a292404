"""Family e-voucher links (亲情账户, domain.md): a convenience link, no money moves.

`family_link_verification_check` is the one rule on binding proof (001, 002): a relative aged 16 or
under proves the relation by birth certificate, household register or notarized relationship; an older
relative by household register or face verification. The admin, the API and the `family_links` import
all use it.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bindings.models import VERIFICATION_FOR_ADULT, VERIFICATION_FOR_CHILD, FamilyLink, FamilyVerification

CHILD_MAX_AGE = 16
MSG_PROOF_FOR_CHILD = "亲属年满16周岁及以下（{age}岁），核验方式应为出生证明、户口簿或公证书"
MSG_PROOF_FOR_ADULT = "亲属已超过16周岁（{age}岁），核验方式应为户口簿或刷脸"
MSG_SELF_LINK = "持有人与亲属不能是同一人"
MSG_LINK_EXISTS = "该持有人已绑定此亲属的亲情账户"


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def family_link_verification_check(*, birth_date: datetime.date, verification: str, today=None) -> str | None:
    """The Chinese reason the proof does not fit the relative's age, or None when it fits."""
    age = age_on(birth_date, today or timezone.localdate())
    if age <= CHILD_MAX_AGE:
        if verification not in VERIFICATION_FOR_CHILD:
            return MSG_PROOF_FOR_CHILD.format(age=age)
    elif verification not in VERIFICATION_FOR_ADULT:
        return MSG_PROOF_FOR_ADULT.format(age=age)
    return None


@transaction.atomic
def family_link_create(*, owner, relative, kinship: str, verification: str, acting_user=None) -> FamilyLink:
    """Bind a relative's e-voucher to the owner's (亲情账户). Raises ValidationError with a Chinese message."""
    if owner.pk == relative.pk:
        raise ValidationError(MSG_SELF_LINK, code="self")
    if verification not in FamilyVerification.values:
        raise ValidationError("核验方式无效", code="verification")
    reason = family_link_verification_check(birth_date=relative.birth_date, verification=verification)
    if reason:
        raise ValidationError(reason, code="proof_for_age")
    if FamilyLink.objects.filter(owner=owner, relative=relative).exists():
        raise ValidationError(MSG_LINK_EXISTS, code="exists")
    return FamilyLink.objects.create(
        owner=owner, relative=relative, kinship=kinship, verification=verification, created_by=acting_user
    )
