"""R12: the grantor may change an authorization at any time: its end, or an open end (R9 still holds);
R14: the change is recorded."""

import pytest

from accounts.reasons import BusinessRuleError
from bindings.models import AuditAction, AuthorizationStatus, Channel, Kinship
from bindings.services import authorization_change_period, authorization_revoke
from tests import factories
from tests.bindings.helpers import days

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorization(jiangsu_policy):
    return factories.authorization(factories.grantor(), factories.resident(), Kinship.CHILD, valid_to=days(30))


def test_r12_grantor_may_change_the_end_and_the_change_is_audited(authorization):
    new_end = days(400)
    changed = authorization_change_period(authorization=authorization, valid_to=new_end, channel=Channel.APP)
    assert changed.valid_to == new_end and changed.status == AuthorizationStatus.ACTIVE
    event = changed.events.get(action=AuditAction.CHANGE)
    assert event.channel == Channel.APP and event.changes["valid_to"][1] is not None
    opened = authorization_change_period(authorization=changed, valid_to=None, channel=Channel.APP)
    assert opened.valid_to is None


@pytest.mark.parametrize("when", [-1, 0])
def test_r12_new_end_must_be_in_the_future_r9(authorization, when):
    with pytest.raises(BusinessRuleError) as error:
        authorization_change_period(authorization=authorization, valid_to=days(when), channel=Channel.APP)
    assert error.value.code == "INVALID_PERIOD"


def test_r12_an_ended_authorization_cannot_be_changed(authorization):
    authorization_revoke(authorization=authorization, reason="不再共济", channel=Channel.APP)
    with pytest.raises(BusinessRuleError) as error:
        authorization_change_period(authorization=authorization, valid_to=days(90), channel=Channel.APP)
    assert error.value.code == "INVALID_TRANSITION"


def test_r12_change_through_the_api(authorization, channel_api, institution_api):
    url = f"/api/v1/authorizations/{authorization.pk}/change"
    assert institution_api.post(url, {"valid_to": None}, format="json").status_code == 403
    response = channel_api.post(url, {"valid_to": "2099-12-31T00:00:00+08:00"}, format="json")
    assert response.status_code == 200 and response.json()["valid_to"].startswith("2099-12-31T00:00:00+08:00")
    refused = channel_api.post(url, {"valid_to": "2000-01-01T00:00:00+08:00"}, format="json")
    assert refused.status_code == 422 and refused.json()["reasons"][0]["code"] == "INVALID_PERIOD"
    assert channel_api.post(url, {}, format="json").status_code == 400
    authorization_revoke(authorization=authorization, reason="x", channel=Channel.APP)
    assert channel_api.post(url, {"valid_to": None}, format="json").status_code == 409


def test_r12_change_at_the_counter(authorization, client):
    clerk = factories.staff_user(factories.COUNTER_GROUP)
    auditor = factories.staff_user(factories.AUDITOR_GROUP)
    url = f"/admin/bindings/authorization/{authorization.pk}/period/"
    client.force_login(auditor)
    assert client.get(url).status_code == 403
    client.force_login(clerk)
    assert "修改有效期" in client.get(url).content.decode()
    response = client.post(url, {"valid_to": "2099-06-30"})
    assert response.status_code == 302
    authorization.refresh_from_db()
    assert authorization.valid_to.astimezone().date().isoformat() in ("2099-07-01", "2099-06-30")
    assert authorization.events.filter(action=AuditAction.CHANGE, acting_user=clerk).exists()
    refused = client.post(url, {"valid_to": "2001-01-01"})
    assert refused.status_code == 200 and "INVALID_PERIOD" in refused.content.decode()
