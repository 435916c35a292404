"""One test (or more) per rule of domain.md, named after it (style.md #9). Data built through the services."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import InsuranceStatus, InsuranceType, Person
from accounts.reasons import BusinessRuleError
from accounts.services import person_update
from bindings.models import (
    NARROW_RELATIVES,
    NEAR_RELATIVES,
    AuditAction,
    Authorization,
    AuthorizationEvent,
    AuthorizationStatus,
    Channel,
    DocumentKind,
    FamilyLink,
    GeographicScope,
    Kinship,
)
from bindings.rules import (
    Proposal,
    effective_status,
    evaluate_binding,
    member_payers,
    policy_in_force,
    usage_reasons,
)
from bindings.selectors import eligibility, family_diagnosis
from bindings.services import (
    DocumentUpload,
    authorization_confirm,
    authorization_create,
    authorization_revoke,
    authorizations_revoke_for_grantor,
)
from tests import factories
from tests.bindings.helpers import days, promise_letter, refusal, upload

S = AuthorizationStatus


@pytest.fixture
def grantor(jiangsu_policy):
    return factories.grantor()


@pytest.fixture
def member(jiangsu_policy):
    return factories.resident()


@pytest.fixture
def clerk(db):
    return factories.staff_user()


# --- R1 ------------------------------------------------------------------------------------------------


def test_r1_resident_insured_grantor_cannot_authorize(member):
    resident_grantor = factories.resident(name="赵敏")
    assert refusal(grantor=resident_grantor, member=member, kinship=Kinship.PARENT) == ["GRANTOR_NOT_EMPLOYEE"]


def test_r1_uninsured_grantor_has_no_employee_insurance(jiangsu_policy, member):
    """api.md: GRANTOR_NOT_EMPLOYEE is "no employee insurance"; GRANTOR_STATUS_NOT_NORMAL is suspended or
    terminated (R3). An uninsured grantor is R1's refusal, as an uninsured member is R4's."""
    uninsured = factories.grantor(insurance_status=InsuranceStatus.UNINSURED)
    assert refusal(grantor=uninsured, member=member, kinship=Kinship.PARENT) == ["GRANTOR_NOT_EMPLOYEE"]


def test_r1_employee_grantor_with_account_can_authorize(grantor, member):
    assert factories.authorization(grantor, member).status == S.ACTIVE


# --- R2 ------------------------------------------------------------------------------------------------


def test_r2_grantor_balance_must_be_above_zero(member):
    empty = factories.grantor(balance=0)
    assert refusal(grantor=empty, member=member, kinship=Kinship.PARENT) == ["GRANTOR_BALANCE_ZERO"]


def test_r2_s7_zero_balance_after_binding_means_nothing_can_be_paid(grantor, member):
    authorization = factories.authorization(grantor, member)
    type(grantor.account).objects.filter(pk=grantor.account.pk).update(balance=0)
    authorization.grantor.refresh_from_db()
    authorization.grantor.account.refresh_from_db()
    assert [r.code for r in usage_reasons(authorization)] == ["GRANTOR_BALANCE_ZERO"]


# --- R3 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [InsuranceStatus.SUSPENDED, InsuranceStatus.TERMINATED])
def test_r3_grantor_and_member_must_be_in_normal_status_to_bind(jiangsu_policy, status):
    grantor = factories.grantor(insurance_status=status)
    member = factories.resident(insurance_status=status)
    assert refusal(grantor=grantor, member=member, kinship=Kinship.PARENT) == [
        "GRANTOR_STATUS_NOT_NORMAL",
        "MEMBER_STATUS_NOT_NORMAL",
    ]


def test_r3_member_not_normal_cannot_use(grantor, member):
    authorization = factories.authorization(grantor, member)
    Person.objects.filter(pk=member.pk).update(insurance_status=InsuranceStatus.SUSPENDED)  # around R13
    authorization.member.refresh_from_db()
    assert "MEMBER_STATUS_NOT_NORMAL" in [r.code for r in usage_reasons(authorization)]


# --- R4 ------------------------------------------------------------------------------------------------


def test_r4_member_must_be_insured(grantor):
    uninsured = factories.resident(insurance_status=InsuranceStatus.UNINSURED)
    assert refusal(grantor=grantor, member=uninsured, kinship=Kinship.CHILD) == ["MEMBER_NOT_INSURED"]


@pytest.mark.parametrize("insurance_type", [InsuranceType.EMPLOYEE, InsuranceType.RESIDENT])
def test_r4_employee_or_resident_member_may_be_bound(grantor, insurance_type):
    member = factories.person(name="孙丽", insurance_type=insurance_type, balance=0)
    assert factories.authorization(grantor, member, Kinship.CHILD).status == S.ACTIVE


# --- R5 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kinship", [k for k in NEAR_RELATIVES if k not in NARROW_RELATIVES])
def test_r5_narrow_policy_refuses_wider_relatives(db, kinship):
    factories.policy("320000", kinships=NARROW_RELATIVES, spouse_confirmation=False)
    codes = refusal(grantor=factories.grantor(), member=factories.resident(), kinship=kinship)
    assert codes == ["RELATION_NOT_ALLOWED"]


@pytest.mark.parametrize("kinship", NEAR_RELATIVES)
def test_r5_near_relatives_policy_allows_every_near_relative(jiangsu_policy, kinship):
    authorization = factories.authorization(factories.grantor(), factories.resident(), kinship)
    assert authorization.kinship == kinship


@pytest.mark.parametrize("kinships", [NEAR_RELATIVES, [*NEAR_RELATIVES, Kinship.OTHER]])
def test_r5_other_is_refused_under_every_policy(db, kinships):
    factories.policy("320000", kinships=kinships)
    codes = refusal(grantor=factories.grantor(), member=factories.resident(), kinship=Kinship.OTHER)
    assert codes == ["RELATION_NOT_ALLOWED"]


# --- R6 ------------------------------------------------------------------------------------------------


def test_r6_pooling_region_scope(db):
    factories.policy("320000", scope=GeographicScope.POOLING_REGION)
    grantor = factories.grantor(region_code="320500")
    nanjing = factories.resident(region_code="320100")
    assert refusal(grantor=grantor, member=nanjing, kinship=Kinship.PARENT) == ["REGION_OUT_OF_SCOPE"]
    assert factories.authorization(grantor, factories.resident(region_code="320500")).status == S.ACTIVE


def test_r6_province_scope(jiangsu_policy):
    grantor = factories.grantor(region_code="320500")
    assert factories.authorization(grantor, factories.resident(region_code="320100")).status == S.ACTIVE
    nanchang = factories.resident(region_code="360100")
    assert refusal(grantor=factories.grantor(), member=nanchang, kinship=Kinship.PARENT) == ["REGION_OUT_OF_SCOPE"]


def test_r6_national_scope(db):
    factories.policy("320000", scope=GeographicScope.NATIONAL)
    authorization = factories.authorization(factories.grantor(), factories.resident(region_code="360100"))
    assert authorization.status == S.ACTIVE


def test_r6_member_moving_out_of_scope_cannot_use(grantor, member):
    authorization = factories.authorization(grantor, member)
    person_update(person=member, region=factories.region("360100"), source="admin")
    authorization.refresh_from_db()
    assert authorization.status == S.ACTIVE  # R13 ends it only when the grantor moves
    assert [r.code for r in usage_reasons(authorization)] == ["REGION_OUT_OF_SCOPE"]


# --- R7 ------------------------------------------------------------------------------------------------


def test_r7_member_can_have_only_one_grantor(grantor, member):
    factories.authorization(grantor, member)
    assert refusal(grantor=factories.grantor(), member=member, kinship=Kinship.PARENT) == ["MEMBER_ALREADY_BOUND"]


def test_r7_grantor_cannot_be_a_member_elsewhere_and_member_cannot_be_a_grantor(jiangsu_policy):
    grandparent, parent, child = factories.grantor(), factories.grantor(), factories.grantor()
    factories.authorization(grandparent, parent, Kinship.CHILD)
    # parent is a member of grandparent's relationship: cannot become a grantor
    assert refusal(grantor=parent, member=child, kinship=Kinship.CHILD) == ["PERSON_IN_OTHER_RELATIONSHIP"]
    # grandparent is a grantor: cannot become someone else's member
    assert refusal(grantor=child, member=grandparent, kinship=Kinship.GRANDCHILD) == ["PERSON_IN_OTHER_RELATIONSHIP"]


def test_r7_leave_first_then_join_the_new_relationship(grantor, member):
    first = factories.authorization(grantor, member)
    authorization_revoke(authorization=first, reason="换绑", channel=Channel.APP)
    other = factories.grantor()
    assert factories.authorization(other, member).status == S.ACTIVE


def test_r7_policy_allowing_several_relationships_orders_payers_by_creation(db):
    factories.policy("320000", single_relationship=False, spouse_confirmation=False)
    member = factories.resident()
    first, second = factories.grantor(name="甲"), factories.grantor(name="乙")
    a1 = factories.authorization(first, member)
    a2 = factories.authorization(second, member, Kinship.SIBLING)
    assert not a1.exclusive and not a2.exclusive
    assert [a.grantor for a, reasons in member_payers(member)] == [first, second]  # S2 order
    assert eligibility(member=member).grantor == first
    assert refusal(grantor=first, member=member, kinship=Kinship.PARENT) == ["DUPLICATE_AUTHORIZATION"]


def test_r7_one_relationship_policy_of_an_existing_relationship_still_binds_its_people(jiangsu_policy):
    """Jiangsu says one relationship per person; a grantor elsewhere whose policy allows several may not draw a
    Jiangsu family's member (or grantor) into a second relationship. Once Jiangsu's policy in force allows several
    too, nothing stands in the way (the policy in force at the moment of the action)."""
    factories.policy("330000", scope=GeographicScope.NATIONAL, spouse_confirmation=False, single_relationship=False)
    jiangsu_grantor, member = factories.grantor(), factories.resident()
    factories.authorization(jiangsu_grantor, member, Kinship.CHILD)
    zhejiang_grantor = factories.grantor(name="钱江", region_code="330100")
    assert refusal(grantor=zhejiang_grantor, member=member, kinship=Kinship.SIBLING) == ["MEMBER_ALREADY_BOUND"]
    assert refusal(grantor=zhejiang_grantor, member=jiangsu_grantor, kinship=Kinship.SIBLING) == [
        "PERSON_IN_OTHER_RELATIONSHIP"
    ]
    factories.policy("320000", effective_from=timezone.localdate(), single_relationship=False)
    assert factories.authorization(zhejiang_grantor, member, Kinship.SIBLING).status == S.ACTIVE


def test_r7_self_authorization_refused(grantor):
    assert "SELF_AUTHORIZATION" in refusal(grantor=grantor, member=grantor, kinship=Kinship.SPOUSE)


# --- R8 ------------------------------------------------------------------------------------------------


def test_r8_money_flows_one_way_the_member_never_pays_for_the_grantor(jiangsu_policy):
    grantor = factories.grantor()
    member = factories.person(name="孙丽", balance="500.00")  # an employee member with her own account
    factories.authorization(grantor, member, Kinship.CHILD)
    assert eligibility(member=member).grantor == grantor
    reverse = eligibility(member=grantor)
    assert not reverse.eligible and reverse.grantor is None
    assert [r.code for r in reverse.reasons] == ["NO_AUTHORIZATION"]
    with_grantor = eligibility(member=grantor, grantor=member, kinship=Kinship.PARENT)
    assert not with_grantor.eligible
    assert "PERSON_IN_OTHER_RELATIONSHIP" in [r.code for r in with_grantor.reasons]


# --- R9 ------------------------------------------------------------------------------------------------


def test_r9_start_may_not_be_in_the_past(grantor, member):
    codes = refusal(grantor=grantor, member=member, kinship=Kinship.PARENT, valid_from=days(-1))
    assert codes == ["INVALID_PERIOD"]


@pytest.mark.parametrize("end_offset", [0, -1])
def test_r9_end_must_be_after_start(grantor, member, end_offset):
    start = days(1)
    codes = refusal(
        grantor=grantor,
        member=member,
        kinship=Kinship.PARENT,
        valid_from=start,
        valid_to=start + datetime.timedelta(hours=end_offset),
    )
    assert codes == ["INVALID_PERIOD"]


def test_r9_open_end_allowed_and_future_start_not_yet_effective(grantor, member):
    authorization = factories.authorization(grantor, member, valid_from=days(3))
    assert authorization.valid_to is None and authorization.status == S.ACTIVE
    assert [r.code for r in usage_reasons(authorization)] == ["AUTHORIZATION_NOT_EFFECTIVE"]
    assert usage_reasons(authorization, at=days(4)) == []


def test_r9_past_its_end_it_is_expired(grantor, member):
    authorization = factories.authorization(grantor, member, valid_to=days(30))
    assert effective_status(authorization) == S.ACTIVE
    assert effective_status(authorization, at=days(31)) == S.EXPIRED
    assert [r.code for r in usage_reasons(authorization, at=days(31))] == ["AUTHORIZATION_NOT_EFFECTIVE"]


# --- R10 -----------------------------------------------------------------------------------------------


def test_r10_online_needs_the_signed_promise(grantor, member):
    for channel in (Channel.APP, Channel.ONLINE_HALL):
        codes = refusal(grantor=grantor, member=member, kinship=Kinship.PARENT, channel=channel, promise_accepted=False)
        assert codes == ["PROMISE_REQUIRED"]


def test_r10_counter_needs_an_uploaded_promise_letter_or_proof(grantor, member, clerk):
    kwargs = {
        "grantor": grantor,
        "member": member,
        "kinship": Kinship.PARENT,
        "channel": Channel.COUNTER,
        "acting_user": clerk,
        "promise_accepted": False,
    }
    assert refusal(**kwargs) == ["PROMISE_REQUIRED"]
    id_card_only = [DocumentUpload(kind=DocumentKind.ID_CARD, file=upload("id.pdf"))]
    assert refusal(**kwargs, documents=id_card_only) == ["PROMISE_REQUIRED"]
    authorization = authorization_create(**kwargs, documents=[promise_letter()])
    assert authorization.status == S.ACTIVE and authorization.promise_accepted
    document = authorization.documents.get()
    assert document.kind == DocumentKind.PROMISE_LETTER
    create = authorization.events.get(action=AuditAction.CREATE)  # R14: on what documents
    assert (create.channel, create.acting_user) == (Channel.COUNTER, clerk)
    assert create.documents == [
        {"id": document.pk, "kind": "promise_letter", "sha256": document.sha256, "size": document.size}
    ]


# --- R11 -----------------------------------------------------------------------------------------------


def test_r11_spouse_pending_then_confirm_makes_active(grantor):
    spouse = factories.person(name="刘芳", balance=0)
    authorization = factories.authorization(grantor, spouse, Kinship.SPOUSE)
    assert authorization.status == S.PENDING_CONFIRMATION
    assert [r.code for r in usage_reasons(authorization)] == ["CONFIRMATION_PENDING"]
    confirmed = authorization_confirm(
        authorization=authorization, accept=True, channel=Channel.APP, acting_person=spouse
    )
    assert confirmed.status == S.ACTIVE and confirmed.confirmed_at is not None
    assert usage_reasons(confirmed) == []


def test_r11_spouse_may_decline(grantor):
    spouse = factories.person(name="刘芳", balance=0)
    authorization = factories.authorization(grantor, spouse, Kinship.SPOUSE)
    declined = authorization_confirm(authorization=authorization, accept=False, channel=Channel.APP)
    assert declined.status == S.DECLINED and declined.ended_at is not None
    # ended: the spouse is free again and another confirmation is refused
    with pytest.raises(BusinessRuleError) as caught:
        authorization_confirm(authorization=declined, accept=True, channel=Channel.APP)
    assert caught.value.code == "INVALID_TRANSITION"


def test_r11_only_the_spouse_may_answer(grantor):
    spouse = factories.person(name="刘芳", balance=0)
    authorization = factories.authorization(grantor, spouse, Kinship.SPOUSE)
    with pytest.raises(BusinessRuleError) as caught:
        authorization_confirm(authorization=authorization, accept=True, channel=Channel.APP, acting_person=grantor)
    assert caught.value.code == "NOT_CONFIRMING_MEMBER"


def test_r11_no_confirmation_where_the_policy_does_not_ask_or_for_other_kinships(db):
    factories.policy("320000", spouse_confirmation=False)
    assert factories.authorization(factories.grantor(), factories.person(balance=0), Kinship.SPOUSE).status == S.ACTIVE


def test_r11_non_spouse_needs_no_confirmation_and_counter_spouse_may_confirm_on_site(grantor, member, clerk):
    assert factories.authorization(grantor, member, Kinship.PARENT).status == S.ACTIVE
    other_grantor = factories.grantor()
    spouse = factories.person(balance=0)
    authorization = authorization_create(
        grantor=other_grantor,
        member=spouse,
        kinship=Kinship.SPOUSE,
        channel=Channel.COUNTER,
        documents=[promise_letter()],
        spouse_confirmed_on_site=True,
        acting_user=clerk,
    )
    assert authorization.status == S.ACTIVE and authorization.confirmation_channel == Channel.COUNTER
    assert list(authorization.events.values_list("action", flat=True)) == ["create", "document_added", "confirm"]


# --- R12 -----------------------------------------------------------------------------------------------


def test_r12_grantor_may_revoke_at_any_time(grantor, member):
    authorization = factories.authorization(grantor, member, valid_to=days(365))
    revoked = authorization_revoke(authorization=authorization, reason="不再共济", channel=Channel.APP)
    assert revoked.status == S.REVOKED and revoked.end_reason == "不再共济" and revoked.ended_at
    assert [r.code for r in eligibility(member=member).reasons] == ["NO_AUTHORIZATION", "AUTHORIZATION_NOT_EFFECTIVE"]
    with pytest.raises(BusinessRuleError):
        authorization_revoke(authorization=revoked, reason="again", channel=Channel.APP)


def test_r12_pending_and_bulk_revoke_at_the_counter(grantor, clerk):
    spouse = factories.person(balance=0)
    pending = factories.authorization(grantor, spouse, Kinship.SPOUSE)
    child = factories.authorization(grantor, factories.resident(), Kinship.CHILD)
    ended = authorizations_revoke_for_grantor(
        grantor=grantor, reason="主账户人申请解除", channel=Channel.COUNTER, acting_user=clerk
    )
    assert {a.pk for a in ended} == {pending.pk, child.pk}
    assert set(Authorization.objects.values_list("status", flat=True)) == {S.REVOKED}


# --- R13 -----------------------------------------------------------------------------------------------


def test_r13_member_suspended_at_the_counter_releases_the_authorization(grantor, member, clerk):
    authorization = factories.authorization(grantor, member)
    person_update(person=member, insurance_status=InsuranceStatus.SUSPENDED, source="admin", acting_user=clerk)
    authorization.refresh_from_db()
    assert authorization.status == S.TERMINATED and "R13" in authorization.end_reason
    event = authorization.events.get(action=AuditAction.TERMINATE)
    assert (event.channel, event.acting_user) == (Channel.COUNTER, clerk)


def test_r13_grantor_terminated_through_the_api_ends_the_whole_relationship(grantor, channel_api):
    authorizations = [factories.authorization(grantor, factories.resident()) for _ in range(3)]
    unrelated = factories.authorization(factories.grantor(), factories.resident())
    person_update(
        person=grantor, insurance_status=InsuranceStatus.TERMINATED, source="api", api_client=channel_api.client_obj
    )
    statuses = Authorization.objects.filter(pk__in=[a.pk for a in authorizations]).values_list("status", flat=True)
    assert set(statuses) == {S.TERMINATED}
    unrelated.refresh_from_db()
    assert unrelated.status == S.ACTIVE
    events = AuthorizationEvent.objects.filter(action=AuditAction.TERMINATE)
    assert events.count() == 3
    assert {(e.channel, e.api_client_id) for e in events} == {(Channel.SYSTEM, channel_api.client_obj.pk)}


def test_r13_grantor_moving_out_of_the_pooling_region_ends_the_relationship(grantor, member, clerk):
    authorization = factories.authorization(grantor, member)
    person_update(person=grantor, region=factories.region("320100"), source="admin", acting_user=clerk)
    authorization.refresh_from_db()
    assert authorization.status == S.TERMINATED and "转出统筹区" in authorization.end_reason


def test_r13_grantor_leaving_employee_insurance_ends_the_relationship(grantor, member):
    authorization = factories.authorization(grantor, member)
    person_update(person=grantor, insurance_type=InsuranceType.RESIDENT, source="api")
    authorization.refresh_from_db()
    assert authorization.status == S.TERMINATED


def test_r13_even_with_a_balance_left_and_a_pending_spouse(grantor):
    spouse = factories.person(balance=0)
    pending = factories.authorization(grantor, spouse, Kinship.SPOUSE)
    person_update(person=spouse, insurance_status=InsuranceStatus.TERMINATED, source="admin")
    pending.refresh_from_db()
    assert pending.status == S.TERMINATED
    grantor.account.refresh_from_db()
    assert grantor.account.balance > 0


# --- R14 -----------------------------------------------------------------------------------------------


def test_r14_every_action_is_audited_with_who_channel_and_what(jiangsu_policy, clerk, channel_api):
    from bindings.services import authorizations_expire, document_add

    grantor = factories.grantor()
    client = channel_api.client_obj
    created = factories.authorization(grantor, factories.resident(), api_client=client)
    spouse = factories.person(balance=0)
    confirmed = factories.authorization(grantor, spouse, Kinship.SPOUSE, api_client=client)
    authorization_confirm(authorization=confirmed, accept=True, channel=Channel.APP, api_client=client)
    other = factories.grantor()
    declined = factories.authorization(other, factories.person(balance=0), Kinship.SPOUSE, api_client=client)
    authorization_confirm(authorization=declined, accept=False, channel=Channel.ONLINE_HALL, api_client=client)
    authorization_revoke(authorization=created, reason="不再需要", channel=Channel.COUNTER, acting_user=clerk)
    document_add(authorization=created, upload=promise_letter(), acting_user=clerk)
    expiring = factories.authorization(other, factories.resident(), valid_to=days(1))
    terminated = factories.authorization(factories.grantor(), factories.resident())
    person_update(
        person=terminated.member, insurance_status=InsuranceStatus.SUSPENDED, source="admin", acting_user=clerk
    )
    assert authorizations_expire(at=days(2)) == 1

    def events(authorization, action):
        return AuthorizationEvent.objects.filter(authorization=authorization, action=action)

    create = events(created, AuditAction.CREATE).get()
    assert (create.channel, create.api_client, create.changes["status"]) == (Channel.APP, client, [None, S.ACTIVE])
    assert events(confirmed, AuditAction.CONFIRM).get().changes["status"] == [S.PENDING_CONFIRMATION, S.ACTIVE]
    decline = events(declined, AuditAction.DECLINE).get()
    assert (decline.channel, decline.api_client) == (Channel.ONLINE_HALL, client)
    revoke = events(created, AuditAction.REVOKE).get()
    assert (revoke.channel, revoke.acting_user, revoke.note) == (Channel.COUNTER, clerk, "不再需要")
    document = events(created, AuditAction.DOCUMENT_ADDED).get()
    assert document.acting_user == clerk and document.documents[0]["sha256"] and document.documents[0]["kind"]
    terminate = events(terminated, AuditAction.TERMINATE).get()
    assert (terminate.channel, terminate.acting_user) == (Channel.COUNTER, clerk)
    expire = events(expiring, AuditAction.EXPIRE).get()
    assert expire.channel == Channel.SYSTEM and expire.changes["status"] == [S.ACTIVE, S.EXPIRED]
    assert all(e.occurred_at for e in AuthorizationEvent.objects.all())


# --- The engine as a whole -----------------------------------------------------------------------------


def test_engine_returns_every_failing_reason_at_once(jiangsu_policy):
    grantor = factories.resident(insurance_status=InsuranceStatus.SUSPENDED)
    member = factories.resident(region_code="360100", insurance_status=InsuranceStatus.UNINSURED)
    proposal = Proposal(
        grantor=grantor, member=member, kinship=Kinship.OTHER, channel=Channel.COUNTER, valid_from=days(-2)
    )
    evaluation = evaluate_binding(proposal)
    assert evaluation.codes == [
        "GRANTOR_NOT_EMPLOYEE",
        "GRANTOR_STATUS_NOT_NORMAL",
        "MEMBER_NOT_INSURED",
        "RELATION_NOT_ALLOWED",
        "REGION_OUT_OF_SCOPE",
        "INVALID_PERIOD",
        "PROMISE_REQUIRED",
    ]
    assert {r.rule for r in evaluation.reasons} == {"R1", "R3", "R4", "R5", "R6", "R9", "R10"}
    assert all(r.message for r in evaluation.reasons)


def test_no_policy_in_force_is_a_reason(db):
    assert refusal(grantor=factories.grantor(), member=factories.resident(), kinship=Kinship.PARENT) == [
        "NO_POLICY_IN_FORCE"
    ]


def test_policy_versions_by_date_future_version_not_applied_yet(db):
    today = timezone.localdate()
    old = factories.policy("320000", effective_from=datetime.date(2024, 1, 1), kinships=NARROW_RELATIVES)
    new = factories.policy("320000", effective_from=today + datetime.timedelta(days=10))
    assert policy_in_force("320500", today) == old
    assert policy_in_force("320500", today + datetime.timedelta(days=10)) == new
    grantor, sibling = factories.grantor(), factories.resident()
    # the policy in force at the moment of the action applies, even for a start after the new version
    codes = refusal(grantor=grantor, member=sibling, kinship=Kinship.SIBLING, valid_from=days(20))
    assert codes == ["RELATION_NOT_ALLOWED"]
    assert factories.authorization(grantor, factories.resident(), Kinship.PARENT).policy == old


def test_pooling_region_policy_preferred_over_province(db):
    province = factories.policy("320000", scope=GeographicScope.PROVINCE)
    suzhou = factories.policy("320500", scope=GeographicScope.POOLING_REGION, kinships=NARROW_RELATIVES)
    assert policy_in_force("320500", timezone.localdate()) == suzhou
    assert policy_in_force("320100", timezone.localdate()) == province
    suzhou_grantor, nanjing_grantor = factories.grantor(region_code="320500"), factories.grantor(region_code="320100")
    assert refusal(
        grantor=suzhou_grantor, member=factories.resident(region_code="320100"), kinship=Kinship.SIBLING
    ) == ["RELATION_NOT_ALLOWED", "REGION_OUT_OF_SCOPE"]
    authorization = factories.authorization(nanjing_grantor, factories.resident(region_code="320500"), Kinship.SIBLING)
    assert authorization.policy == province


def test_family_diagnosis_tells_family_link_from_mutual_aid(grantor, member):
    FamilyLink.objects.create(owner=grantor, relative=member, kinship=Kinship.PARENT, verification="household_register")
    diagnosis = family_diagnosis(member)
    assert [r.code for r in diagnosis.member_eligibility.reasons] == ["FAMILY_ACCOUNT_ONLY"]
    assert diagnosis.family_links and not diagnosis.as_member
    factories.authorization(grantor, member)
    assert family_diagnosis(member).member_eligibility.eligible
    assert len(family_diagnosis(grantor).as_grantor) == 1


def test_r9_r7_a_lapsed_authorization_blocks_no_eligibility_answer_before_the_sweep(grantor, member):
    """Eligibility writes nothing, so a lapsed authorization is still `active` in the table when it is asked; past
    its end it is expired (R9) and must not be reported as binding the member (R7)."""
    lapsed = factories.authorization(grantor, member, valid_to=days(10))
    Authorization.objects.filter(pk=lapsed.pk).update(valid_from=days(-20), valid_to=days(-1))
    other = factories.grantor()
    answer = eligibility(member=member, grantor=other, kinship=Kinship.PARENT)
    codes = [r.code for r in answer.reasons]
    assert "MEMBER_ALREADY_BOUND" not in codes and "DUPLICATE_AUTHORIZATION" not in codes
    assert codes == ["NO_AUTHORIZATION"]  # with this grantor, nothing yet: the rest would allow a binding


def test_r9_r7_a_lapsed_authorization_does_not_block_a_new_binding(grantor, member):
    lapsed = factories.authorization(grantor, member, valid_to=days(10))
    Authorization.objects.filter(pk=lapsed.pk).update(valid_from=days(-20), valid_to=days(-1))
    renewed = factories.authorization(factories.grantor(), member)
    assert renewed.status == S.ACTIVE
    lapsed.refresh_from_db()
    assert lapsed.status == S.EXPIRED
    assert lapsed.events.filter(action=AuditAction.EXPIRE, channel=Channel.SYSTEM).count() == 1


def test_r12_r13_r9_an_ended_authorization_names_the_rule_that_ended_it(jiangsu_policy):
    """AUTHORIZATION_NOT_EFFECTIVE serves three rules; the clerk's diagnosis names the one that applied."""
    from bindings.rules import status_reasons
    from bindings.services import authorization_revoke

    revoked = factories.authorization(factories.grantor(), factories.resident(), Kinship.PARENT)
    authorization_revoke(authorization=revoked, reason="本人申请", channel="app")
    member = factories.resident()
    terminated = factories.authorization(factories.grantor(), member, Kinship.PARENT)
    person_update(person=member, insurance_status=InsuranceStatus.TERMINATED)
    lapsed = factories.authorization(factories.grantor(), factories.resident(), Kinship.PARENT, valid_to=days(1))
    rules = [
        [(r.code, r.rule) for r in status_reasons(a, timezone.now() + datetime.timedelta(days=2))]
        for a in Authorization.objects.filter(pk__in=[revoked.pk, terminated.pk, lapsed.pk]).order_by("pk")
    ]
    assert rules == [
        [("AUTHORIZATION_NOT_EFFECTIVE", "R12")],
        [("AUTHORIZATION_NOT_EFFECTIVE", "R13")],
        [("AUTHORIZATION_NOT_EFFECTIVE", "R9")],
    ]
