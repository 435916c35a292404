"""R7 under concurrency (PostgreSQL: real row locks and concurrent connections)."""

import threading

import pytest
from django.db import connection

from accounts.reasons import BusinessRuleError
from bindings.models import Authorization, Channel, Kinship
from bindings.services import authorization_create
from tests import factories


def _race(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, kwargs):
        try:
            barrier.wait(timeout=10)
            results[index] = authorization_create(**kwargs)
        except BusinessRuleError as error:
            results[index] = error
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, kw)) for i, kw in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r7_two_grantors_binding_the_same_member_at_the_same_moment(jiangsu_policy):
    first, second = factories.grantor(name="甲"), factories.grantor(name="乙")
    member = factories.resident()
    common = {"member": member, "kinship": Kinship.PARENT, "channel": Channel.APP, "promise_accepted": True}
    results = _race([{"grantor": first, **common}, {"grantor": second, **common}])
    created = [r for r in results if isinstance(r, Authorization)]
    refused = [r for r in results if isinstance(r, BusinessRuleError)]
    assert len(created) == 1 and len(refused) == 1, results
    assert refused[0].codes == ["MEMBER_ALREADY_BOUND"]
    assert Authorization.objects.filter(member=member).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_r7_chain_bindings_at_the_same_moment(jiangsu_policy):
    """A binds B while B binds C: B would be member and grantor at once; one of the two is refused."""
    a, b, c = factories.grantor(), factories.grantor(), factories.resident()
    results = _race(
        [
            {"grantor": a, "member": b, "kinship": Kinship.CHILD, "channel": Channel.APP, "promise_accepted": True},
            {"grantor": b, "member": c, "kinship": Kinship.CHILD, "channel": Channel.APP, "promise_accepted": True},
        ]
    )
    refused = [r for r in results if isinstance(r, BusinessRuleError)]
    assert len(refused) == 1, results
    assert refused[0].codes == ["PERSON_IN_OTHER_RELATIONSHIP"]
    assert Authorization.objects.count() == 1
