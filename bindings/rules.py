"""The one rules engine for mutual aid (domain.md R1–R11, S7).

Every caller — the counter screens, the channel API, the importer, the eligibility endpoint and the
settlement engine — asks these functions; nothing else re-implements a rule. Each rule is a named
check (style.md #3) that returns the reasons it finds; the engine runs them all and returns every
failing reason, not only the first.
"""

import contextlib
import contextvars
import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connections
from django.db.models import Q
from django.utils import timezone

from accounts.models import ZERO, InsuranceStatus, Person, province_code
from accounts.reasons import Reason
from bindings.models import (
    LIVE_STATUSES,
    Authorization,
    AuthorizationStatus,
    Channel,
    GeographicScope,
    Kinship,
    Policy,
)

# R9: a start "not earlier than now" with a little slack for the clocks of outside systems.
START_TOLERANCE = datetime.timedelta(minutes=5)
ONLINE_CHANNELS = {Channel.APP, Channel.ONLINE_HALL}


# Performance (settlement engine): one settlement asks for the same region's policy several times (usage_reasons
# per authorization, then the S6 scope check). Inside `policy_memo()` each (region, date) is read once; outside it
# nothing is cached. A context variable, so every thread / request has its own memo.
_policy_memo: contextvars.ContextVar[dict | None] = contextvars.ContextVar("policy_memo", default=None)


@contextlib.contextmanager
def policy_memo():
    token = _policy_memo.set({})
    try:
        yield
    finally:
        _policy_memo.reset(token)


_POLICIES_SQL = {
    count: (
        f'SELECT * FROM "{Policy._meta.db_table}" WHERE "region_id" IN ({", ".join(["%s"] * count)}) '  # noqa: S608
        'AND "effective_from" <= %s ORDER BY "effective_from" DESC'
    )
    for count in (1, 2)  # the region alone (a province), or the region and its province
}


def _date_param(on: datetime.date):
    return connections[Policy.objects.db].ops.adapt_datefield_value(on)


def policy_in_force(region_code: str, on: datetime.date) -> Policy | None:
    """The grantor's pooling-region policy if it has one, else its province's; latest effective date not
    after `on` (imports.md "policies"). A version effective in the future is not applied yet."""
    memo = _policy_memo.get()
    if memo is not None and (region_code, on) in memo:
        return memo[(region_code, on)]
    candidates = [region_code]
    if not region_code.endswith("0000"):
        candidates.append(province_code(region_code))
    # One query for the region and its province (one version per region and day: policy_one_version_per_day).
    # Performance: every settlement asks this; as raw SQL (`Manager.raw`, which still maps columns and converts
    # values like the ORM) it costs 0.2 ms of Python instead of 0.5 ms for building and compiling the QuerySet
    # `Policy.objects.filter(region_id__in=candidates, effective_from__lte=on).order_by("-effective_from")`.
    latest: dict[str, Policy] = {}
    for policy in Policy.objects.raw(_POLICIES_SQL[len(candidates)], [*candidates, _date_param(on)]):
        latest.setdefault(policy.region_id, policy)
    found = next((latest[code] for code in candidates if code in latest), None)
    if memo is not None:
        memo[(region_code, on)] = found
    return found


def policy_memo_remember(region_code: str, on: datetime.date, policy: Policy | None) -> None:
    """Record what `policy_in_force(region_code, on)` is, found by a read that joined it in (the settlement engine's
    payers query, `settlements.selectors.patient_for_settlement`). Nothing happens outside `policy_memo()`."""
    memo = _policy_memo.get()
    if memo is not None:
        memo[(region_code, on)] = policy


def local_date(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment)


def person_balance(person: Person):
    try:
        return person.account.balance
    except Person.account.RelatedObjectDoesNotExist:
        return None


@dataclass
class Proposal:
    """A proposed authorization, as the counter form, the API or an import states it."""

    grantor: Person
    member: Person
    kinship: str
    channel: str
    valid_from: datetime.datetime | None = None
    valid_to: datetime.datetime | None = None
    promise_accepted: bool = False
    promise_documents: int = 0  # signed promise letters / proof uploaded at the counter
    at: datetime.datetime = field(default_factory=timezone.now)

    @property
    def start(self) -> datetime.datetime:
        return self.valid_from or self.at


@dataclass
class Evaluation:
    reasons: list[Reason]
    policy: Policy | None

    @property
    def allowed(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def needs_spouse_confirmation(self, kinship: str) -> bool:
        # R11: only where the policy says so, and only for a spouse.
        return bool(self.policy and self.policy.spouse_confirmation and kinship == Kinship.SPOUSE)


# --- Named checks -----------------------------------------------------------------------------------


def check_self(p: Proposal, policy) -> list[Reason]:
    return [Reason.of("SELF_AUTHORIZATION")] if p.grantor.pk == p.member.pk else []


def check_r1_grantor_employee(p: Proposal, policy) -> list[Reason]:
    # An uninsured grantor has no employee insurance, whatever type the roster last gave (api.md: R1's code; R3's
    # speaks of suspended or terminated insurance), as an uninsured member is R4's refusal.
    uninsured = p.grantor.insurance_status == InsuranceStatus.UNINSURED
    if not p.grantor.is_employee or uninsured or person_balance(p.grantor) is None:
        return [Reason.of("GRANTOR_NOT_EMPLOYEE")]
    return []


def check_r2_grantor_balance(p: Proposal, policy) -> list[Reason]:
    balance = person_balance(p.grantor)
    if balance is not None and balance <= ZERO:
        return [Reason.of("GRANTOR_BALANCE_ZERO")]
    return []


def _r3_not_normal(person: Person, code: str) -> list[Reason]:
    # R3 speaks of suspended or terminated insurance; an uninsured grantor is R1's refusal, an uninsured member R4's.
    if person.insurance_status in (InsuranceStatus.SUSPENDED, InsuranceStatus.TERMINATED):
        return [Reason.of(code, person.get_insurance_status_display())]
    return []


def check_r3_status(p: Proposal, policy) -> list[Reason]:
    return _r3_not_normal(p.grantor, "GRANTOR_STATUS_NOT_NORMAL") + _r3_not_normal(p.member, "MEMBER_STATUS_NOT_NORMAL")


def _r4_not_insured(member: Person) -> list[Reason]:
    return [Reason.of("MEMBER_NOT_INSURED")] if member.insurance_status == InsuranceStatus.UNINSURED else []


def check_r4_member_insured(p: Proposal, policy) -> list[Reason]:
    return _r4_not_insured(p.member)


def check_r5_kinship(p: Proposal, policy) -> list[Reason]:
    # `other` (in-laws and the like) is refused under every policy (Civil Code art. 1045).
    if p.kinship == Kinship.OTHER or (policy is not None and p.kinship not in policy.kinships):
        label = dict(Kinship.choices).get(p.kinship, p.kinship)
        return [Reason.of("RELATION_NOT_ALLOWED", str(label))]
    return []


def check_r6_region(p: Proposal, policy) -> list[Reason]:
    if policy is None:
        return []
    return region_scope_reasons(policy, p.grantor.region_id, p.member.region_id)


def region_scope_reasons(policy: Policy, grantor_region: str, member_region: str) -> list[Reason]:
    if policy.scope == GeographicScope.POOLING_REGION and grantor_region != member_region:
        return [Reason.of("REGION_OUT_OF_SCOPE", "限同一统筹区")]
    if policy.scope == GeographicScope.PROVINCE and province_code(grantor_region) != province_code(member_region):
        return [Reason.of("REGION_OUT_OF_SCOPE", "限本省")]
    return []


def check_r7_one_relationship(p: Proposal, policy) -> list[Reason]:
    """R7, where a policy in force says 限一个共济关系: the policy of this binding, or the policy of a relationship the
    member or the grantor already belongs to. A person who joined a one-relationship family under its grantor's
    policy does not join a second one because the new grantor's policy would allow several; where every policy
    concerned allows several, a member may have several grantors (S2 orders them), but a pair still has one live
    authorization (DUPLICATE_AUTHORIZATION)."""
    live = _live_at(p.at)
    single_here = policy is not None and policy.single_relationship
    reasons = []
    if _limited(live.filter(member=p.member).exclude(grantor=p.grantor), single_here, p.at):
        reasons.append(Reason.of("MEMBER_ALREADY_BOUND"))
    if _limited(live.filter(Q(member=p.grantor) | Q(grantor=p.member)), single_here, p.at):
        reasons.append(Reason.of("PERSON_IN_OTHER_RELATIONSHIP"))
    return reasons


def _limited(relationships, single_here: bool, at: datetime.datetime) -> bool:
    """Whether these live authorizations stand in the way: there are some, and this binding's policy or the policy in
    force for one of their grantors' regions allows one relationship only."""
    regions = set(relationships.values_list("grantor__region_id", flat=True))
    if not regions or single_here:
        return bool(regions)
    on = local_date(at)
    return any((other := policy_in_force(code, on)) is not None and other.single_relationship for code in regions)


def _live_at(at: datetime.datetime):
    """Authorizations live at `at`: a live status and not past their end. One past its end is expired (R9) even
    before the daily sweep records it, so it blocks nothing, in a binding (which records it first, see
    services._expire_lapsed) as in an eligibility question (which writes nothing)."""
    return Authorization.objects.filter(status__in=LIVE_STATUSES).filter(Q(valid_to__isnull=True) | Q(valid_to__gt=at))


def check_duplicate(p: Proposal, policy) -> list[Reason]:
    if _live_at(p.at).filter(grantor=p.grantor, member=p.member).exists():
        return [Reason.of("DUPLICATE_AUTHORIZATION")]
    return []


def check_r9_period(p: Proposal, policy) -> list[Reason]:
    if p.valid_from is not None and p.valid_from < p.at - START_TOLERANCE:
        return [Reason.of("INVALID_PERIOD", "开始时间不得早于当前时间")]
    if p.valid_to is not None and p.valid_to <= p.start:
        return [Reason.of("INVALID_PERIOD", "终止时间必须晚于开始时间")]
    return []


def check_r10_promise(p: Proposal, policy) -> list[Reason]:
    # Online the promise is signed in the app; at the counter the letter or proof is scanned and kept.
    if p.channel in ONLINE_CHANNELS and not p.promise_accepted:
        return [Reason.of("PROMISE_REQUIRED", "须签署个人承诺书")]
    if p.channel == Channel.COUNTER and p.promise_documents < 1:
        return [Reason.of("PROMISE_REQUIRED", "须上传已签字的承诺书或亲属关系证明")]
    return []


Check = Callable[[Proposal, Policy | None], list[Reason]]

BINDING_CHECKS: tuple[Check, ...] = (
    check_self,
    check_r1_grantor_employee,
    check_r2_grantor_balance,
    check_r3_status,
    check_r4_member_insured,
    check_r5_kinship,
    check_r6_region,
    check_r7_one_relationship,
    check_duplicate,
    check_r9_period,
    check_r10_promise,
)
# What can be told before anything is filed (the eligibility endpoint, the counter's first screen).
PRECHECKS: tuple[Check, ...] = tuple(c for c in BINDING_CHECKS if c not in (check_r9_period, check_r10_promise))


def evaluate_binding(proposal: Proposal, checks: Iterable[Check] = BINDING_CHECKS) -> Evaluation:
    """Every reason the proposed authorization would be refused, under the policy in force for the grantor's
    region at the moment of the action (domain.md "Policies"), not at a later start date."""
    policy = policy_in_force(proposal.grantor.region_id, local_date(proposal.at))
    reasons: list[Reason] = []
    if policy is None:
        reasons.append(Reason.of("NO_POLICY_IN_FORCE"))
    for check in checks:
        reasons.extend(check(proposal, policy))
    return Evaluation(reasons=dedupe(reasons), policy=policy)


def dedupe(reasons: Iterable[Reason]) -> list[Reason]:
    seen, unique = set(), []
    for reason in reasons:
        if reason.code not in seen:
            seen.add(reason.code)
            unique.append(reason)
    return unique


# --- Using an authorization -------------------------------------------------------------------------


def effective_status(authorization: Authorization, at: datetime.datetime | None = None) -> str:
    """Status as of `at`: an authorization past its end is expired even before the sweep marks it."""
    at = at or timezone.now()
    if (
        authorization.status in LIVE_STATUSES
        and authorization.valid_to is not None
        and authorization.valid_to <= at
    ):
        return AuthorizationStatus.EXPIRED
    return authorization.status


# The rule that ended an authorization, for the clerk's diagnosis: revoked by the grantor or staff (R12), ended by a
# change of insurance (R13), past its end (R9).
ENDED_BY_RULE = {AuthorizationStatus.REVOKED: "R12", AuthorizationStatus.TERMINATED: "R13"}


def status_reasons(authorization: Authorization, at: datetime.datetime | None = None) -> list[Reason]:
    """Why the authorization's own state keeps it from paying now: pending or declined (R11), ended or
    outside its window (R9, R12, R13). Empty for an active authorization inside its window."""
    at = at or timezone.now()
    status = effective_status(authorization, at)
    if status == AuthorizationStatus.PENDING_CONFIRMATION:
        return [Reason.of("CONFIRMATION_PENDING")]
    if status == AuthorizationStatus.DECLINED:
        return [Reason.of("CONFIRMATION_DECLINED")]
    if status != AuthorizationStatus.ACTIVE:
        rule = ENDED_BY_RULE.get(status, "R9")
        return [Reason.of("AUTHORIZATION_NOT_EFFECTIVE", str(AuthorizationStatus(status).label), rule=rule)]
    if authorization.valid_from > at:
        return [Reason.of("AUTHORIZATION_NOT_EFFECTIVE", "尚未到授权开始时间")]
    return []


def usage_reasons(authorization: Authorization, at: datetime.datetime | None = None) -> list[Reason]:
    """Why this authorization cannot pay for its member now (empty: it can). R3, R1, R5, R6, R9, R11–R13, S7.

    R5 and R6 are judged under the grantor's policy in force now (domain.md: the policy in force at the moment of the
    action applies): a kinship or a member's region that a newer policy no longer allows does not pay."""
    at = at or timezone.now()
    grantor, member = authorization.grantor, authorization.member
    reasons = status_reasons(authorization, at)
    proposal = Proposal(grantor=grantor, member=member, kinship=authorization.kinship, channel="", at=at)
    reasons += check_r1_grantor_employee(proposal, None)
    reasons += check_r3_status(proposal, None)
    reasons += check_r4_member_insured(proposal, None)
    policy = policy_in_force(grantor.region_id, local_date(at))
    if policy is not None:
        reasons += check_r5_kinship(proposal, policy)
        reasons += region_scope_reasons(policy, grantor.region_id, member.region_id)
    balance = person_balance(grantor)
    if balance is not None and balance <= ZERO:
        reasons.append(Reason.of("GRANTOR_BALANCE_ZERO"))  # S7
    return dedupe(reasons)


def member_status_reasons(member: Person) -> list[Reason]:
    """R4 / R3 for the member alone: why this person cannot use anyone's account through mutual aid, whoever the
    grantor (told where there is no live authorization to judge, e.g. after R13 ended it)."""
    return _r4_not_insured(member) + _r3_not_normal(member, "MEMBER_STATUS_NOT_NORMAL")


def grantor_alone_reasons(grantor: Person) -> list[Reason]:
    """R1, R2, R3 for the grantor alone (the member unknown): what can still be told about a binding."""
    p = Proposal(grantor=grantor, member=grantor, kinship="", channel="")  # R1 and R2 read only the grantor
    return (
        check_r1_grantor_employee(p, None)
        + check_r2_grantor_balance(p, None)
        + _r3_not_normal(grantor, "GRANTOR_STATUS_NOT_NORMAL")
    )


def member_authorizations(member: Person, *, include_ended: bool = False):
    """The member's authorizations in the order they were made (S2: several grantors pay in that order)."""
    qs = Authorization.objects.filter(member=member).select_related(
        "grantor__region", "grantor__account", "member__region", "policy"
    )
    if not include_ended:
        qs = qs.filter(status__in=LIVE_STATUSES)
    return qs.order_by("created_at", "id")


def member_payers(member: Person, at: datetime.datetime | None = None) -> list[tuple[Authorization, list[Reason]]]:
    """Each live authorization of the member, in payment order, with why it cannot pay now (if it cannot)."""
    at = at or timezone.now()
    return [(a, usage_reasons(a, at)) for a in member_authorizations(member)]


def no_authorization_reason(member: Person) -> Reason:
    """Seed 002: a member who is only a family e-voucher link's relative (亲情账户: uses the owner's e-voucher to be
    seen) has no mutual aid. Owning such a link gives a person nothing to pay with, so it is NO_AUTHORIZATION."""
    from bindings.models import FamilyLink

    if FamilyLink.objects.filter(relative=member).exists():
        return Reason.of("FAMILY_ACCOUNT_ONLY")
    return Reason.of("NO_AUTHORIZATION")
