"""R7 under concurrency (PostgreSQL: real row locks and concurrent connections)."""


import pytest

from accounts.reasons import BusinessRuleError
from bindings.models import Authorization, Channel, Kinship
from bindings.services import authorization_create
from tests import factories
from tests.concurrency import run_together


def _race(calls):
    return run_together([lambda kwargs=kwargs: authorization_create(**kwargs) for kwargs in calls])


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
