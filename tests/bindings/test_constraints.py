"""The database guards (style.md #4), proven by going around the services: `.objects.create`, `.update()`,
raw SQL. Each must fail with IntegrityError on SQLite and PostgreSQL alike."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

import bindings.services
from accounts.reasons import BusinessRuleError
from bindings.models import Authorization, AuthorizationEvent, AuthorizationStatus, Channel, Kinship
from bindings.rules import BINDING_CHECKS, check_duplicate, check_r7_one_relationship, evaluate_binding
from tests import factories

S = AuthorizationStatus


def raw_authorization(grantor, member, *, policy, status=S.ACTIVE, exclusive=True, **extra):
    values = {
        "grantor": grantor,
        "member": member,
        "kinship": Kinship.PARENT,
        "valid_from": timezone.now(),
        "status": status,
        "exclusive": exclusive,
        "channel": Channel.APP,
        "policy": policy,
    }
    values.update(extra)
    return Authorization.objects.create(**values)


@pytest.fixture
def people(jiangsu_policy):
    return factories.grantor(), factories.grantor(), factories.resident()


def test_one_live_exclusive_authorization_per_member(jiangsu_policy, people):
    first, second, member = people
    raw_authorization(first, member, policy=jiangsu_policy)
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_authorization(second, member, policy=jiangsu_policy, status=S.PENDING_CONFIRMATION)
    # ended ones do not count, and non-exclusive ones (a several-relationships policy) are allowed
    raw_authorization(second, member, policy=jiangsu_policy, status=S.REVOKED)
    raw_authorization(second, member, policy=jiangsu_policy, exclusive=False)


def test_one_live_authorization_per_pair(jiangsu_policy, people):
    grantor, _, member = people
    raw_authorization(grantor, member, policy=jiangsu_policy, exclusive=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_authorization(grantor, member, policy=jiangsu_policy, exclusive=False)


def test_update_cannot_revive_a_second_live_authorization(jiangsu_policy, people):
    first, second, member = people
    raw_authorization(first, member, policy=jiangsu_policy)
    ended = raw_authorization(second, member, policy=jiangsu_policy, status=S.REVOKED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Authorization.objects.filter(pk=ended.pk).update(status=S.ACTIVE)


def test_no_self_authorization_and_end_after_start(jiangsu_policy, people):
    grantor, _, member = people
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_authorization(grantor, grantor, policy=jiangsu_policy)
    start = timezone.now()
    for end in (start, start - datetime.timedelta(seconds=1)):
        with pytest.raises(IntegrityError), transaction.atomic():
            raw_authorization(grantor, member, policy=jiangsu_policy, valid_from=start, valid_to=end)


def test_audit_events_are_append_only(jiangsu_policy, people):
    grantor, _, member = people
    factories.authorization(grantor, member)
    event = AuthorizationEvent.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuthorizationEvent.objects.filter(pk=event.pk).update(note="改写历史")
    with pytest.raises(IntegrityError), transaction.atomic():
        AuthorizationEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM bindings_authorizationevent")
    assert AuthorizationEvent.objects.get().note == ""


def test_index_catches_a_binding_that_raced_past_the_checks(monkeypatch, jiangsu_policy, people):
    """If the R7 check were passed by a concurrent binding, the partial unique index still refuses, and the
    service turns the IntegrityError into the clear reason."""
    first, second, member = people
    unguarded = tuple(c for c in BINDING_CHECKS if c not in (check_r7_one_relationship, check_duplicate))
    monkeypatch.setattr(bindings.services, "evaluate_binding", lambda p: evaluate_binding(p, checks=unguarded))
    factories.authorization(first, member)
    with pytest.raises(BusinessRuleError) as caught:
        factories.authorization(second, member)
    assert caught.value.codes == ["MEMBER_ALREADY_BOUND"]
    with pytest.raises(BusinessRuleError) as caught:
        factories.authorization(first, member)
    assert caught.value.codes == ["DUPLICATE_AUTHORIZATION"]
    assert Authorization.objects.count() == 1
