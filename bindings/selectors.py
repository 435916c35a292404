"""Reads for the counter, the API and reports: authorization records, eligibility and the
"why can't my family use my account?" diagnosis (seed 002)."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Person
from accounts.reasons import Reason
from bindings.models import LIVE_STATUSES, Authorization, FamilyLink, Policy
from bindings.rules import (
    PRECHECKS,
    Proposal,
    dedupe,
    evaluate_binding,
    member_authorizations,
    member_status_reasons,
    no_authorization_reason,
    policy_in_force,
    status_reasons,
    usage_reasons,
)
from settlements.models import ELIGIBLE_CATEGORIES


def authorizations_for_person(person: Person) -> QuerySet[Authorization]:
    """授权记录: where the person is grantor or member, newest first."""
    return (
        Authorization.objects.filter(Q(grantor=person) | Q(member=person))
        .select_related("grantor__region", "grantor__account", "member__region", "member__account", "policy")
        .order_by("-created_at", "-id")
    )


def authorization_history(authorization: Authorization):
    return authorization.events.select_related("acting_user", "api_client").order_by("occurred_at", "id")


def family_links_for_person(person: Person) -> QuerySet[FamilyLink]:
    return FamilyLink.objects.filter(Q(owner=person) | Q(relative=person)).select_related("owner", "relative")


@dataclass
class Eligibility:
    eligible: bool
    grantor: Person | None
    authorization: Authorization | None
    reasons: list[Reason] = field(default_factory=list)


def ended_reasons(queryset, at: datetime.datetime) -> list[Reason]:
    """Where there is no live authorization: why the latest one (if any) no longer counts (declined,
    revoked, terminated, expired), so the caller hears more than "none"."""
    latest = queryset.exclude(status__in=LIVE_STATUSES).order_by("-created_at", "-id").first()
    return status_reasons(latest, at) if latest is not None else []


def category_reasons(category: str | None) -> list[Reason]:
    if category and category not in ELIGIBLE_CATEGORIES:
        return [Reason.of("CATEGORY_NOT_ELIGIBLE")]
    return []


def live_authorizations_outside_policy(policy: Policy) -> int:
    """How many live authorizations this policy, where it is in force today for their grantor's region, no longer
    allows by kinship: they stop paying (R5 is judged at use under the policy in force, `rules.usage_reasons`)."""
    today = timezone.localdate()
    live = Authorization.objects.filter(status__in=LIVE_STATUSES).exclude(kinship__in=policy.kinships)
    if policy.region_id.endswith("0000"):  # a province's policy governs the pooling regions that have none
        live = live.filter(grantor__region__code__startswith=policy.region_id[:2])
    else:
        live = live.filter(grantor__region_id=policy.region_id)
    regions = set(live.values_list("grantor__region_id", flat=True))
    governed = [code for code in regions if getattr(policy_in_force(code, today), "pk", None) == policy.pk]
    return live.filter(grantor__region_id__in=governed).count() if governed else 0


def no_payer_reasons(member: Person, at: datetime.datetime) -> list[Reason]:
    """Why no one pays for the member who has no live authorization: none (or only a family e-voucher link), the
    member's own insurance (R3, R4), and why the latest one no longer counts (declined, revoked, ended by R13,
    expired). The same answer from eligibility and from the settlement engine, before and after the daily sweep marks
    an authorization expired."""
    ended = ended_reasons(Authorization.objects.filter(member=member), at)
    return [no_authorization_reason(member)] + member_status_reasons(member) + ended


def eligibility(
    *, member: Person, grantor: Person | None = None, kinship: str | None = None, category: str | None = None,
    at: datetime.datetime | None = None,
) -> Eligibility:
    """Can the member's personal burden be paid from a grantor's account now?

    With a grantor: through their live authorization if there is one, else whether a binding would be
    allowed at all (every pre-check of the engine). Without one: the member's authorizations in payment
    order (S2), or why there is none (NO_AUTHORIZATION / FAMILY_ACCOUNT_ONLY).
    """
    at = at or timezone.now()
    extra = category_reasons(category)
    if grantor is not None:
        authorization = (
            Authorization.objects.filter(grantor=grantor, member=member, status__in=LIVE_STATUSES)
            .select_related("grantor__account", "grantor__region", "member__region")
            .first()
        )
        if authorization is not None:
            reasons = dedupe(usage_reasons(authorization, at) + extra)
            return Eligibility(not reasons, grantor, authorization, reasons)
        checks = PRECHECKS
        if not kinship:  # R5 cannot be judged without a kinship; the other checks can.
            checks = tuple(c for c in PRECHECKS if c.__name__ != "check_r5_kinship")
        proposal = Proposal(grantor=grantor, member=member, kinship=kinship or "", channel="", at=at)
        evaluation = evaluate_binding(proposal, checks=checks)
        ended = ended_reasons(Authorization.objects.filter(grantor=grantor, member=member), at)
        reasons = dedupe(evaluation.reasons + [no_authorization_reason(member)] + ended + extra)
        return Eligibility(False, grantor, None, reasons)

    payers = [(a, usage_reasons(a, at)) for a in member_authorizations(member)]
    if not payers:
        return Eligibility(False, None, None, dedupe(no_payer_reasons(member, at) + extra))
    for authorization, reasons in payers:
        if not reasons and not extra:
            return Eligibility(True, authorization.grantor, authorization, [])
    # None can pay: why, for every one of them (api.md: every applicable reason, not only the first's).
    first = payers[0][0]
    return Eligibility(False, first.grantor, first, dedupe([r for _, why in payers for r in why] + extra))


@dataclass
class FamilyDiagnosis:
    """What a clerk tells a caller: per authorization, can it pay now, and if not, why."""

    as_grantor: list[tuple[Authorization, list[Reason]]]
    as_member: list[tuple[Authorization, list[Reason]]]
    member_eligibility: Eligibility
    family_links: list[FamilyLink]


def family_diagnosis(person: Person, at: datetime.datetime | None = None) -> FamilyDiagnosis:
    at = at or timezone.now()
    grants = (
        Authorization.objects.filter(grantor=person, status__in=LIVE_STATUSES)
        .select_related("grantor__account", "grantor__region", "member__region")
        .order_by("created_at")
    )
    return FamilyDiagnosis(
        as_grantor=[(a, usage_reasons(a, at)) for a in grants],
        as_member=[(a, usage_reasons(a, at)) for a in member_authorizations(person)],
        member_eligibility=eligibility(member=person, at=at),
        family_links=list(family_links_for_person(person)),
    )
