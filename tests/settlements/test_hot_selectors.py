"""The settlement engine's hand-written reads (settlements.selectors, "hot reads") return what the ORM queries they
replace return: the same instances, field for field, the same related objects cached, the same order."""

import datetime

import pytest
from django.db import connection
from django.db.models import Subquery
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Person
from bindings.models import Authorization, AuthorizationStatus, Kinship
from bindings.rules import member_authorizations, policy_in_force, policy_memo
from settlements.models import Settlement
from settlements.selectors import patient_for_settlement
from tests import factories
from tests.settlements.helpers import body

pytestmark = pytest.mark.django_db


def fields_of(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_patient_matches_the_orm_with_its_account_and_no_earlier_settlement(institution):
    patient = factories.person(name="王小明", balance="30.00")
    found = patient_for_settlement(
        id_number=patient.id_number, institution_id=institution.pk, external_id="X1", payers_on=timezone.localdate()
    )
    orm = Person.objects.select_related("account").get(pk=patient.pk)
    assert fields_of(found) == fields_of(orm)
    assert fields_of(found.account) == fields_of(orm.account)
    assert found.account.person is found
    assert found.existing_settlement_id is None


def test_patient_without_an_account_raises_like_select_related(institution):
    resident = factories.resident()
    found = patient_for_settlement(
        id_number=resident.id_number, institution_id=institution.pk, external_id="X1", payers_on=timezone.localdate()
    )
    with pytest.raises(Person.account.RelatedObjectDoesNotExist):
        found.account  # noqa: B018 - the descriptor raises, no query


def test_patient_carries_the_earlier_settlement_under_the_same_key(institution_api, institution, jiangsu_policy):
    patient = factories.person(balance="100.00")
    payload = body(patient)
    institution_api.post("/api/v1/settlements", payload, format="json")
    stored = Settlement.objects.get(institution=institution, external_id=payload["external_id"])
    found = patient_for_settlement(
        id_number=patient.id_number,
        institution_id=institution.pk,
        external_id=payload["external_id"],
        payers_on=timezone.localdate(),
    )
    same_key = Settlement.objects.filter(institution=institution, external_id=payload["external_id"])
    orm = Person.objects.annotate(existing=Subquery(same_key.values("pk")[:1])).get(pk=patient.pk)
    assert found.existing_settlement_id == orm.existing == stored.pk
    unknown = factories.id_number()
    assert (
        patient_for_settlement(
            id_number=unknown, institution_id=institution.pk, external_id="x", payers_on=timezone.localdate()
        )
        is None
    )


def test_live_authorizations_match_member_authorizations(db):
    factories.policy("320000", single_relationship=False)  # several grantors for one member
    member = factories.resident(name="李秀英")
    grantors = [factories.grantor(name=f"授权人{i}", balance=f"{100 * (i + 1)}.00") for i in range(3)]
    for grantor in grantors:
        factories.authorization(grantor, member, Kinship.PARENT)
    old = factories.authorization(factories.grantor(name="已终止"), member, Kinship.PARENT)
    Authorization.objects.filter(pk=old.pk).update(status=AuthorizationStatus.REVOKED, ended_at=timezone.now())
    # Same created_at for two of them: the id breaks the tie, as in the ORM's order_by("created_at", "id").
    member_authorizations(member).filter(grantor=grantors[2]).update(
        created_at=member_authorizations(member).get(grantor=grantors[1]).created_at
    )
    member_authorizations(member).filter(grantor=grantors[0]).update(
        created_at=timezone.now() + datetime.timedelta(hours=1)
    )

    orm = list(member_authorizations(member))
    patient = patient_for_settlement(
        id_number=member.id_number, institution_id=0, external_id="x", payers_on=timezone.localdate()
    )
    found = patient.live_authorizations
    assert [a.pk for a in found] == [a.pk for a in orm] and len(found) == 3
    for mine, theirs in zip(found, orm, strict=True):
        assert fields_of(mine) == fields_of(theirs)
        assert fields_of(mine.grantor) == fields_of(theirs.grantor)
        assert fields_of(mine.grantor.account) == fields_of(theirs.grantor.account)
        assert mine.member is patient


def test_patient_without_live_authorizations_has_none(institution, jiangsu_policy):
    member = factories.resident()
    old = factories.authorization(factories.grantor(), member, Kinship.PARENT)
    Authorization.objects.filter(pk=old.pk).update(status=AuthorizationStatus.REVOKED, ended_at=timezone.now())
    found = patient_for_settlement(
        id_number=member.id_number, institution_id=institution.pk, external_id="x", payers_on=timezone.localdate()
    )
    assert found.pk == member.pk and found.live_authorizations == []


def test_patient_and_payers_read_in_one_query(institution, jiangsu_policy, django_assert_num_queries):
    member = factories.resident()
    factories.authorization(factories.grantor(), member, Kinship.PARENT)
    with django_assert_num_queries(1):
        patient = patient_for_settlement(
            id_number=member.id_number, institution_id=institution.pk, external_id="x", payers_on=timezone.localdate()
        )
        (authorization,) = patient.live_authorizations
        assert authorization.grantor.account.balance > 0
        assert authorization.grantor.region_id


@pytest.mark.parametrize(
    "versions, expected",
    [
        pytest.param([], None, id="no-policy"),
        pytest.param([("320000", -10)], ("320000", -10), id="province-only"),
        pytest.param([("320000", -10), ("320500", -20)], ("320500", -20), id="own-region-beats-province"),
        pytest.param([("320500", -20), ("320500", -5), ("320500", 3)], ("320500", -5), id="latest-in-force-not-future"),
        pytest.param([("320500", 3), ("320000", -30)], ("320000", -30), id="own-only-in-future-falls-back"),
        pytest.param([("330000", -10)], None, id="other-province"),
    ],
)
def test_payers_query_hands_the_policy_in_force_to_the_memo(db, versions, expected):
    """The policy joined into the payers query is what `policy_in_force` finds for the grantor's region and day."""
    today = timezone.localdate()
    made = {}
    for region, days in versions:
        made[(region, days)] = factories.policy(region, effective_from=today + datetime.timedelta(days=days))
    member = factories.resident()
    # Written directly: without a policy in force the binding service would (rightly) refuse it. The policy it records
    # as applied is another province's, which the look-up for 320500 must not find.
    Authorization.objects.create(
        policy=factories.policy("110000", effective_from=today - datetime.timedelta(days=400)),
        grantor=factories.grantor(region_code="320500"),
        member=member,
        kinship=Kinship.PARENT,
        valid_from=timezone.now(),
        status=AuthorizationStatus.ACTIVE,
        channel="app",
    )
    with policy_memo():
        patient_for_settlement(id_number=member.id_number, institution_id=0, external_id="x", payers_on=today)
        with CaptureQueriesContext(connection) as queries:
            primed = policy_in_force("320500", today)
    assert len(queries) == 0
    assert primed == policy_in_force("320500", today) == (made[expected] if expected else None)


def test_token_look_up_matches_the_orm(institution):
    from accounts.api.auth import client_by_token_hash, token_hash
    from accounts.models import ApiClient

    for role, at in (("institution", institution), ("staff", None)):
        client, token = factories.api_client(role=role, institution=at)
        found = client_by_token_hash(token_hash(token))
        orm = ApiClient.objects.select_related("institution").get(pk=client.pk)
        assert fields_of(found) == fields_of(orm)
        assert ApiClient.institution.is_cached(found)
        assert (fields_of(found.institution) if at else None) == (fields_of(orm.institution) if at else None)
    assert client_by_token_hash(token_hash("no-such-token")) is None
