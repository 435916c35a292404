"""Why mutual aid paid nothing when the member has no live authorization left: the settlement's `reasons` and the
eligibility answer say the same thing (api.md: "every applicable reason"), before and after the daily sweep."""

import datetime

import pytest
from django.utils import timezone

from accounts.models import InsuranceStatus
from accounts.services import person_update
from bindings.models import Authorization, Kinship
from bindings.services import authorization_confirm, authorization_revoke, authorizations_expire
from tests import factories
from tests.settlements.helpers import codes, settle

pytestmark = pytest.mark.django_db


def eligibility_codes(api, member) -> list[str]:
    response = api.post("/api/v1/eligibility", {"member_id_number": member.id_number}, format="json")
    assert response.status_code == 200 and response.json()["eligible"] is False
    return codes(response.json())


def test_r13_member_terminated_settlement_names_the_status_and_the_ended_authorization(institution_api, jiangsu_policy):
    grantor, member = factories.grantor(balance="500.00"), factories.resident()
    factories.authorization(grantor, member, Kinship.CHILD)
    person_update(person=member, insurance_status=InsuranceStatus.TERMINATED)  # R13 ends the authorization
    data = settle(institution_api, member).json()
    assert data["mutual_aid_paid"] == "0.00"
    assert codes(data) == ["NO_AUTHORIZATION", "MEMBER_STATUS_NOT_NORMAL", "AUTHORIZATION_NOT_EFFECTIVE"]
    assert eligibility_codes(institution_api, member) == codes(data)


def test_r4_uninsured_member_without_authorization_is_told_so(institution_api, jiangsu_policy):
    member = factories.resident(insurance_status=InsuranceStatus.UNINSURED)
    data = settle(institution_api, member).json()
    assert codes(data) == ["NO_AUTHORIZATION", "MEMBER_NOT_INSURED"]
    assert eligibility_codes(institution_api, member) == codes(data)


def test_r11_spouse_who_declined_settlement_says_confirmation_declined(institution_api, jiangsu_policy):
    grantor, spouse = factories.grantor(balance="500.00"), factories.person(balance="0.00")
    authorization = factories.authorization(grantor, spouse, Kinship.SPOUSE)
    authorization_confirm(authorization=authorization, accept=False, channel="app")
    data = settle(institution_api, spouse).json()
    assert data["mutual_aid_paid"] == "0.00"
    assert codes(data) == ["NO_AUTHORIZATION", "CONFIRMATION_DECLINED"]
    assert eligibility_codes(institution_api, spouse) == codes(data)


def test_r12_revoked_authorization_is_named_not_only_missing(institution_api, jiangsu_policy):
    grantor, member = factories.grantor(balance="500.00"), factories.resident()
    authorization = factories.authorization(grantor, member, Kinship.PARENT)
    authorization_revoke(authorization=authorization, reason="本人申请", channel="app")
    data = settle(institution_api, member).json()
    assert codes(data) == ["NO_AUTHORIZATION", "AUTHORIZATION_NOT_EFFECTIVE"]


def test_r9_lapsed_authorization_gives_the_same_reasons_before_and_after_the_sweep(institution_api, jiangsu_policy):
    grantor, member = factories.grantor(balance="500.00"), factories.resident()
    authorization = factories.authorization(grantor, member, Kinship.PARENT)
    now = timezone.now()
    Authorization.objects.filter(pk=authorization.pk).update(
        valid_from=now - datetime.timedelta(days=10), valid_to=now - datetime.timedelta(days=1)
    )
    before = settle(institution_api, member).json()
    assert authorizations_expire() == 1
    after = settle(institution_api, member).json()
    assert before["mutual_aid_paid"] == after["mutual_aid_paid"] == "0.00"
    assert "AUTHORIZATION_NOT_EFFECTIVE" in codes(before)
    assert "AUTHORIZATION_NOT_EFFECTIVE" in codes(after)
