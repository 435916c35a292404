"""The settlement rules that judge one bill alone (domain.md S1, S6, the institution's designation), apart from the
engine (`services`) so that eligibility asked by an institution (`selectors.eligibility_at_institution`) applies the
very same checks."""

import datetime

from django.db.models import Q

from accounts.id_numbers import normalize_id_number
from accounts.models import CrossRegionFiling, Person, province_code
from accounts.reasons import Reason
from bindings.models import GeographicScope
from bindings.rules import policy_in_force
from settlements.models import Institution


def check_s1_credential(patient_id_number: str, credential_number: str) -> list[Reason]:
    """S1: the credential (e-voucher, social security card, ID card) carries the patient's own ID number."""
    if normalize_id_number(credential_number) != normalize_id_number(patient_id_number):
        return [Reason.of("CREDENTIAL_MISMATCH")]
    return []


def check_institution_designated(institution: Institution) -> list[Reason]:
    return [] if institution.designated else [Reason.of("INSTITUTION_NOT_DESIGNATED")]


def check_s6_cross_region(*, patient: Person, institution: Institution, on: datetime.date) -> list[Reason]:
    """S6: outside the insured pooling region, mutual aid needs a filing for the place of treatment."""
    if institution.region_id == patient.region_id:
        return []
    filed = (
        CrossRegionFiling.objects.filter(person=patient, start_date__lte=on)
        .filter(
            Q(treatment_region_id=institution.region_id) | Q(treatment_region_id=province_code(institution.region_id))
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .exists()
    )
    return [] if filed else [Reason.of("CROSS_REGION_NOT_FILED")]


def check_s6_policy_scope(*, grantor: Person, institution: Institution, on: datetime.date) -> list[Reason]:
    """S6 / R6 (seed 003): where the grantor's policy is not nationwide, its account pays only inside its province."""
    policy = policy_in_force(grantor.region_id, on)
    if policy is None or policy.scope == GeographicScope.NATIONAL:
        return []
    if province_code(grantor.region_id) != province_code(institution.region_id):
        return [Reason.of("REGION_OUT_OF_SCOPE", "跨省共济使用暂未开通")]
    return []
