"""Bindings HTTP API (api.md): POST authorizations, confirm, revoke, GET persons/{no}/authorizations, eligibility."""

import datetime
import re
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.models import InsuranceStatus
from bindings.models import Authorization, AuthorizationEvent, AuthorizationStatus, Channel, FamilyLink, Kinship
from tests import factories

ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$")


def body(grantor, member, kinship="parent", **extra):
    data = {
        "grantor_id_number": grantor.id_number,
        "member_id_number": member.id_number,
        "kinship": kinship,
        "promise_accepted": True,
    }
    data.update(extra)
    return data


def masked_id(person):
    return person.id_number[:6] + "********" + person.id_number[-4:]


def post(api, path, data):
    return api.post(f"/api/v1/{path}", data, format="json")


def codes(response):
    return [r["code"] for r in response.json()["reasons"]]


@pytest.fixture
def family(jiangsu_policy):
    return {
        "grantor": factories.grantor(name="王建国"),
        "parent": factories.resident(name="李秀英"),
        "spouse": factories.person(name="欧阳娜娜", balance=0),
    }


# --- POST authorizations ---------------------------------------------------------------------------------


def test_create_active_authorization_returns_201_masked_with_offset_times(channel_api, family):
    response = post(channel_api, "authorizations", body(family["grantor"], family["parent"]))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "active"
    assert data["kinship"] == "parent"
    assert data["channel"] == "app"
    assert data["grantor"]["name"] == "王**"
    assert data["member"]["name"] == "李**"
    assert data["grantor"]["id_number"] == masked_id(family["grantor"])
    assert data["valid_to"] is None and data["ended_at"] is None and data["end_reason"] == ""
    assert ISO_WITH_OFFSET.match(data["created_at"]) and ISO_WITH_OFFSET.match(data["valid_from"])
    authorization = Authorization.objects.get(pk=data["id"])
    event = authorization.events.get()
    assert (event.action, event.channel, event.api_client) == ("create", Channel.APP, channel_api.client_obj)


def test_create_spouse_is_pending_confirmation_and_online_hall_channel(channel_api, family):
    response = post(
        channel_api, "authorizations", body(family["grantor"], family["spouse"], "spouse", channel="online_hall")
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending_confirmation"
    assert response.json()["channel"] == "online_hall"


def test_create_refusal_lists_every_reason_at_once(channel_api, jiangsu_policy):
    grantor = factories.grantor(balance=0, insurance_status=InsuranceStatus.SUSPENDED)
    member = factories.resident(region_code="360100", insurance_status=InsuranceStatus.TERMINATED)
    past = (timezone.now() - datetime.timedelta(days=2)).isoformat()
    response = post(
        channel_api, "authorizations", body(grantor, member, "other", valid_from=past, promise_accepted=False)
    )
    assert response.status_code == 422
    data = response.json()
    assert set(codes(response)) == {
        "GRANTOR_BALANCE_ZERO",
        "GRANTOR_STATUS_NOT_NORMAL",
        "MEMBER_STATUS_NOT_NORMAL",
        "RELATION_NOT_ALLOWED",
        "REGION_OUT_OF_SCOPE",
        "INVALID_PERIOD",
        "PROMISE_REQUIRED",
    }
    assert data["message"] and all(r["message"] for r in data["reasons"])
    assert not Authorization.objects.exists()


@pytest.mark.parametrize("promise", [False, None, "missing"])
def test_create_without_promise_is_422_promise_required(channel_api, family, promise):
    data = body(family["grantor"], family["parent"])
    if promise == "missing":
        del data["promise_accepted"]
    else:
        data["promise_accepted"] = promise
    response = post(channel_api, "authorizations", data)
    if promise is None:  # null is not a boolean
        assert response.status_code == 400
        return
    assert response.status_code == 422
    assert codes(response) == ["PROMISE_REQUIRED"]
    assert response.json()["code"] == "PROMISE_REQUIRED"


def test_create_promise_required_listed_with_other_reasons(channel_api, family):
    response = post(
        channel_api, "authorizations", body(family["grantor"], family["parent"], "other", promise_accepted=False)
    )
    assert response.status_code == 422
    assert codes(response) == ["RELATION_NOT_ALLOWED", "PROMISE_REQUIRED"]


def test_create_unknown_people_is_422_person_not_found_with_other_reasons(channel_api, family):
    ghost = factories.id_number()
    response = post(
        channel_api,
        "authorizations",
        {"grantor_id_number": ghost, "member_id_number": family["parent"].id_number, "kinship": "parent"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "PERSON_NOT_FOUND"
    assert codes(response) == ["PERSON_NOT_FOUND", "PROMISE_REQUIRED"]
    response = post(
        channel_api,
        "authorizations",
        {
            "grantor_id_number": ghost,
            "member_id_number": factories.id_number(),
            "kinship": "parent",
            "promise_accepted": True,
        },
    )
    assert codes(response) == ["PERSON_NOT_FOUND", "PERSON_NOT_FOUND"]
    assert ghost not in response.content.decode()


def test_create_with_one_unknown_person_lists_what_the_known_one_and_the_kinship_tell(channel_api, jiangsu_policy):
    """api.md: every applicable reason. The member is unknown, but the grantor's zero balance (R2) and a kinship no
    policy allows (R5) are known already; an uninsured member (R4) with an unknown grantor likewise."""
    broke = factories.grantor(balance=0)
    ghost = SimpleNamespace(id_number=factories.id_number())
    response = post(channel_api, "authorizations", body(broke, ghost, "other"))
    assert response.status_code == 422 and response.json()["code"] == "PERSON_NOT_FOUND"
    assert codes(response) == ["PERSON_NOT_FOUND", "GRANTOR_BALANCE_ZERO", "RELATION_NOT_ALLOWED"]
    uninsured = factories.resident(insurance_status="uninsured")
    response = post(channel_api, "authorizations", body(ghost, uninsured, "parent"))
    assert codes(response) == ["PERSON_NOT_FOUND", "MEMBER_NOT_INSURED"]


def _bad_checksum(number):
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.mark.parametrize(
    "change",
    [
        {"grantor_id_number": "BAD"},
        {"member_id_number": "bad-checksum"},
        {"kinship": "cousin"},
        {"valid_from": "next tuesday"},
        {"valid_to": "2026-13-45T99:00:00"},
        {"channel": "counter"},
        {"promise_accepted": "perhaps"},
    ],
)
def test_create_malformed_body_is_400(channel_api, family, change):
    data = body(family["grantor"], family["parent"])
    if change.get("member_id_number") == "bad-checksum":
        change = {"member_id_number": _bad_checksum(family["parent"].id_number)}
    data.update(change)
    response = post(channel_api, "authorizations", data)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "INVALID_INPUT"
    assert response.json()["reasons"]
    assert not Authorization.objects.exists()


def test_create_missing_fields_is_400(channel_api, family):
    response = post(channel_api, "authorizations", {"kinship": "parent"})
    assert response.status_code == 400
    assert {r["field"] for r in response.json()["reasons"]} >= {"grantor_id_number", "member_id_number"}


def test_create_with_window_accepts_naive_times_as_shanghai(channel_api, family):
    start = timezone.localtime() + datetime.timedelta(days=1)
    naive = start.replace(tzinfo=None, microsecond=0).isoformat()
    response = post(
        channel_api,
        "authorizations",
        body(
            family["grantor"],
            family["parent"],
            valid_from=naive,
            valid_to=(start + datetime.timedelta(days=365)).isoformat(),
        ),
    )
    assert response.status_code == 201, response.content
    assert response.json()["valid_from"] == start.replace(microsecond=0).isoformat()


def test_r9_start_given_as_a_date_today_means_from_now_another_day_from_its_midnight(channel_api, family):
    """R9: the start may not be earlier than now. A date alone: today's means "starting today", i.e. now (not 00:00,
    which has passed); tomorrow's is 00:00 Asia/Shanghai; yesterday's is refused."""
    today = timezone.localdate()
    response = post(channel_api, "authorizations", body(family["grantor"], family["parent"], valid_from=str(today)))
    assert response.status_code == 201, response.content
    started = datetime.datetime.fromisoformat(response.json()["valid_from"])
    assert abs(started - timezone.now()) < datetime.timedelta(minutes=1) and response.json()["status"] == "active"
    tomorrow = str(today + datetime.timedelta(days=1))
    spouse = body(family["grantor"], family["spouse"], "spouse", valid_from=tomorrow)
    response = post(channel_api, "authorizations", spouse)
    assert response.status_code == 201 and response.json()["valid_from"] == f"{tomorrow}T00:00:00+08:00"
    other = factories.grantor()
    yesterday = str(today - datetime.timedelta(days=1))
    response = post(channel_api, "authorizations", body(other, factories.resident(), valid_from=yesterday))
    assert response.status_code == 422 and codes(response) == ["INVALID_PERIOD"]


@pytest.mark.parametrize("fixture", ["institution_api", "staff_api"])
def test_create_refused_to_institution_and_staff_roles(request, family, fixture):
    api = request.getfixturevalue(fixture)
    response = post(api, "authorizations", body(family["grantor"], family["parent"]))
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"


def test_every_endpoint_refuses_anonymous(anonymous_api, family):
    authorization = factories.authorization(family["grantor"], family["parent"])
    calls = [
        ("post", "authorizations", body(family["grantor"], family["parent"])),
        ("post", f"authorizations/{authorization.pk}/confirm", {"decision": "accept"}),
        ("post", f"authorizations/{authorization.pk}/revoke", {"reason": "x"}),
        ("get", f"persons/{family['grantor'].person_no}/authorizations", None),
        ("post", "eligibility", {"member_id_number": family["parent"].id_number}),
    ]
    for method, path, data in calls:
        response = getattr(anonymous_api, method)(f"/api/v1/{path}", data, format="json")
        assert response.status_code == 401, path
        assert response.json()["code"] == "NOT_AUTHENTICATED"


# --- confirm / decline -----------------------------------------------------------------------------------


def _pending_spouse(family):
    authorization = factories.authorization(family["grantor"], family["spouse"], "spouse")
    assert authorization.status == AuthorizationStatus.PENDING_CONFIRMATION
    return authorization


def test_confirm_accept_makes_active_and_audits(channel_api, family):
    authorization = _pending_spouse(family)
    response = post(
        channel_api,
        f"authorizations/{authorization.pk}/confirm",
        {"decision": "accept", "member_id_number": family["spouse"].id_number},
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    assert ISO_WITH_OFFSET.match(response.json()["confirmed_at"])
    event = AuthorizationEvent.objects.get(authorization=authorization, action="confirm")
    assert event.api_client == channel_api.client_obj


def test_confirm_decline_ends_it(channel_api, family):
    authorization = _pending_spouse(family)
    response = post(channel_api, f"authorizations/{authorization.pk}/confirm", {"decision": "decline"})
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "declined" and data["ended_at"] and data["end_reason"]
    assert AuthorizationEvent.objects.filter(authorization=authorization, action="decline").exists()


def test_confirm_in_wrong_state_is_409(channel_api, family):
    active = factories.authorization(family["grantor"], family["parent"])
    response = post(channel_api, f"authorizations/{active.pk}/confirm", {"decision": "accept"})
    assert response.status_code == 409
    assert response.json()["code"] == "INVALID_TRANSITION"
    pending = _pending_spouse({"grantor": factories.grantor(), "spouse": factories.person()})
    assert post(channel_api, f"authorizations/{pending.pk}/confirm", {"decision": "decline"}).status_code == 200
    assert post(channel_api, f"authorizations/{pending.pk}/confirm", {"decision": "accept"}).status_code == 409


def test_confirm_by_someone_else_is_403(channel_api, family):
    authorization = _pending_spouse(family)
    response = post(
        channel_api,
        f"authorizations/{authorization.pk}/confirm",
        {"decision": "accept", "member_id_number": family["grantor"].id_number},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "NOT_CONFIRMING_MEMBER"
    stranger = post(
        channel_api,
        f"authorizations/{authorization.pk}/confirm",
        {"decision": "accept", "member_id_number": factories.id_number()},  # insured nowhere
    )
    assert stranger.status_code == 403 and stranger.json()["code"] == "NOT_CONFIRMING_MEMBER"
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.PENDING_CONFIRMATION
    spouse = post(
        channel_api,
        f"authorizations/{authorization.pk}/confirm",
        {"decision": "accept", "member_id_number": family["spouse"].id_number.lower()},
    )
    assert spouse.status_code == 200 and spouse.json()["status"] == "active"


@pytest.mark.parametrize("data", [{}, {"decision": "maybe"}])
def test_confirm_bad_decision_is_400(channel_api, family, data):
    authorization = _pending_spouse(family)
    assert post(channel_api, f"authorizations/{authorization.pk}/confirm", data).status_code == 400


def test_confirm_and_revoke_unknown_id_is_404(channel_api, family):
    assert post(channel_api, "authorizations/999999/confirm", {"decision": "accept"}).status_code == 404
    response = post(channel_api, "authorizations/999999/revoke", {"reason": "不再需要"})
    assert response.status_code == 404
    assert response.json()["code"] == "AUTHORIZATION_NOT_FOUND"


def test_confirm_and_revoke_refused_to_institution(institution_api, family):
    authorization = _pending_spouse(family)
    response = post(institution_api, f"authorizations/{authorization.pk}/confirm", {"decision": "accept"})
    assert response.status_code == 403
    assert post(institution_api, f"authorizations/{authorization.pk}/revoke", {"reason": "x"}).status_code == 403


# --- revoke ----------------------------------------------------------------------------------------------


def test_revoke_ends_it_and_a_second_revoke_is_409(channel_api, family):
    authorization = factories.authorization(family["grantor"], family["parent"])
    response = post(channel_api, f"authorizations/{authorization.pk}/revoke", {"reason": "家庭情况变化"})
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "revoked" and data["end_reason"] == "家庭情况变化"
    assert ISO_WITH_OFFSET.match(data["ended_at"])
    again = post(channel_api, f"authorizations/{authorization.pk}/revoke", {"reason": "再来一次"})
    assert again.status_code == 409
    assert again.json()["code"] == "INVALID_TRANSITION"


@pytest.mark.parametrize("data", [{}, {"reason": ""}, {"reason": "   "}])
def test_revoke_needs_a_reason(channel_api, family, data):
    authorization = factories.authorization(family["grantor"], family["parent"])
    response = post(channel_api, f"authorizations/{authorization.pk}/revoke", data)
    assert response.status_code == 400
    authorization.refresh_from_db()
    assert authorization.status == AuthorizationStatus.ACTIVE


def test_revoke_of_a_pending_spouse_binding(channel_api, family):
    authorization = _pending_spouse(family)
    response = post(channel_api, f"authorizations/{authorization.pk}/revoke", {"reason": "填错了"})
    assert response.status_code == 200 and response.json()["status"] == "revoked"


def test_revoke_after_valid_to_is_409_already_expired(channel_api, family):
    authorization = factories.authorization(family["grantor"], family["parent"])
    Authorization.objects.filter(pk=authorization.pk).update(
        valid_from=timezone.now() - datetime.timedelta(days=10), valid_to=timezone.now() - datetime.timedelta(days=1)
    )
    response = post(channel_api, f"authorizations/{authorization.pk}/revoke", {"reason": "x"})
    assert response.status_code == 409


# --- GET persons/{person_no}/authorizations ---------------------------------------------------------------


def test_records_list_both_roles_newest_first_with_effective_status(channel_api, family):
    first = factories.authorization(family["grantor"], family["parent"])
    second = factories.authorization(family["grantor"], family["spouse"], "spouse")
    Authorization.objects.filter(pk=first.pk).update(
        valid_from=timezone.now() - datetime.timedelta(days=10), valid_to=timezone.now() - datetime.timedelta(days=1)
    )
    response = channel_api.get(f"/api/v1/persons/{family['grantor'].person_no}/authorizations")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert [r["id"] for r in data["results"]] == [second.pk, first.pk]
    assert [r["status"] for r in data["results"]] == ["pending_confirmation", "expired"]
    expected = {
        "id",
        "grantor",
        "member",
        "kinship",
        "status",
        "valid_from",
        "valid_to",
        "channel",
        "created_at",
        "ended_at",
        "end_reason",
    }
    assert expected <= set(data["results"][0])
    as_member = channel_api.get(f"/api/v1/persons/{family['parent'].person_no}/authorizations").json()
    assert [r["id"] for r in as_member["results"]] == [first.pk]
    assert as_member["results"][0]["member"]["person_no"] == family["parent"].person_no


def test_records_masked_for_channel_full_for_staff(channel_api, staff_api, family):
    factories.authorization(family["grantor"], family["spouse"], "spouse")
    url = f"/api/v1/persons/{family['spouse'].person_no}/authorizations"
    masked = channel_api.get(url).json()["results"][0]
    full = staff_api.get(url).json()["results"][0]
    assert masked["member"]["name"] == "欧阳**"
    assert masked["member"]["id_number"] == masked_id(family["spouse"])
    text = channel_api.get(url).content.decode()
    assert family["spouse"].id_number not in text and family["grantor"].id_number not in text
    assert "欧阳娜娜" not in text and "王建国" not in text
    assert full["member"]["name"] == "欧阳娜娜"
    assert full["member"]["id_number"] == family["spouse"].id_number
    assert full["grantor"]["name"] == "王建国"


def test_records_paginated(channel_api, jiangsu_policy):
    grantor = factories.grantor()
    for _ in range(3):
        factories.authorization(grantor, factories.resident())
    data = channel_api.get(f"/api/v1/persons/{grantor.person_no}/authorizations?page_size=2").json()
    assert data["count"] == 3 and len(data["results"]) == 2 and data["next"]


def test_records_unknown_person_404_and_institution_403(channel_api, institution_api, family):
    response = channel_api.get("/api/v1/persons/NOPE/authorizations")
    assert response.status_code == 404
    assert response.json()["code"] == "PERSON_NOT_FOUND"
    assert institution_api.get(f"/api/v1/persons/{family['grantor'].person_no}/authorizations").status_code == 403


def test_no_id_number_in_any_bindings_url():
    from bindings.api.urls import urlpatterns

    for pattern in urlpatterns:
        assert "id_number" not in str(pattern.pattern)


# --- POST eligibility -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["institution_api", "channel_api", "staff_api"])
def test_eligibility_through_the_member_authorization(request, family, fixture):
    api = request.getfixturevalue(fixture)
    factories.authorization(family["grantor"], family["parent"])
    response = post(api, "eligibility", {"member_id_number": family["parent"].id_number, "category": "medical"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["eligible"] is True and data["reasons"] == []
    assert data["grantor"]["person_no"] == family["grantor"].person_no
    assert data["grantor"]["name"] == ("王建国" if fixture == "staff_api" else "王**")


def test_eligibility_without_authorization_or_only_family_link(institution_api, family):
    response = post(institution_api, "eligibility", {"member_id_number": family["parent"].id_number})
    data = response.json()
    assert (data["eligible"], data["grantor"], data["authorization_id"]) == (False, None, None)
    assert codes(response) == ["NO_AUTHORIZATION"] and data["reasons"][0]["message"]
    FamilyLink.objects.create(
        owner=family["grantor"], relative=family["parent"], kinship="parent", verification="household_register"
    )
    response = post(institution_api, "eligibility", {"member_id_number": family["parent"].id_number})
    assert codes(response) == ["FAMILY_ACCOUNT_ONLY"]
    assert response.json()["eligible"] is False
    # The link's owner is no one's member through it: plainly no authorization.
    response = post(institution_api, "eligibility", {"member_id_number": family["grantor"].id_number})
    assert codes(response) == ["NO_AUTHORIZATION"]


def test_eligibility_without_a_usable_grantor_lists_the_reasons_of_every_grantor(institution_api, db):
    """Several grantors (a policy without the one-relationship limit), none can pay: every reason, not the first's."""
    factories.policy("320000", single_relationship=False)
    member = factories.resident(name="李秀英")
    broke = factories.grantor(name="王建国", balance="10.00")
    factories.authorization(broke, member, Kinship.PARENT)
    type(broke.account).objects.filter(pk=broke.account.pk).update(balance=0)
    spouse = factories.grantor(name="张伟")
    pending = factories.authorization(spouse, member, Kinship.SPOUSE)
    assert pending.status == "pending_confirmation"
    response = post(institution_api, "eligibility", {"member_id_number": member.id_number})
    assert response.json()["eligible"] is False
    assert codes(response) == ["GRANTOR_BALANCE_ZERO", "CONFIRMATION_PENDING"]


def test_eligibility_with_a_grantor_lists_every_reason(institution_api, jiangsu_policy):
    grantor = factories.grantor(balance=0)
    member = factories.resident(region_code="360100")
    response = post(
        institution_api,
        "eligibility",
        {
            "member_id_number": member.id_number,
            "grantor_id_number": grantor.id_number,
            "kinship": "other",
            "category": "fitness",
        },
    )
    assert response.status_code == 200
    assert response.json()["eligible"] is False
    assert set(codes(response)) == {
        "GRANTOR_BALANCE_ZERO",
        "RELATION_NOT_ALLOWED",
        "REGION_OUT_OF_SCOPE",
        "NO_AUTHORIZATION",
        "CATEGORY_NOT_ELIGIBLE",
        "CROSS_REGION_NOT_FILED",  # asked by a Suzhou institution for a member insured in Nanchang (S6)
    }


def test_s6_eligibility_asked_by_an_institution_is_judged_for_a_bill_there(
    db, institution_api, channel_api, jiangsu_policy, region_nanjing, region_suzhou
):
    """An institution asks before it settles: the answer is the one its bill would get. A Nanjing member with an active
    authorization, no filing, asked by a Suzhou hospital: CROSS_REGION_NOT_FILED (S6), and the bill then pays nothing
    by mutual aid for the same reason. The online channel, asking for no institution, hears eligible. An undesignated
    institution hears INSTITUTION_NOT_DESIGNATED."""
    from tests.conftest import _api
    from tests.settlements.helpers import settle

    grantor = factories.grantor(balance="500.00", region_code="320100")
    member = factories.resident(region_code="320100")
    factories.authorization(grantor, member, "parent")
    asked = {"member_id_number": member.id_number}
    response = post(institution_api, "eligibility", asked)
    assert response.json()["eligible"] is False and codes(response) == ["CROSS_REGION_NOT_FILED"]
    assert response.json()["grantor"]["person_no"] == grantor.person_no
    bill = settle(institution_api, member).json()
    assert bill["mutual_aid_paid"] == "0.00" and [r["code"] for r in bill["reasons"]] == ["CROSS_REGION_NOT_FILED"]
    assert post(channel_api, "eligibility", asked).json()["eligible"] is True
    nanjing = _api("institution", institution=factories.institution(code="H32010001", region=region_nanjing))
    assert post(nanjing, "eligibility", asked).json() == {**post(channel_api, "eligibility", asked).json()}
    closed = _api("institution", institution=factories.institution(code="H-X", region=region_nanjing, designated=False))
    response = post(closed, "eligibility", asked)
    assert response.json()["eligible"] is False and codes(response) == ["INSTITUTION_NOT_DESIGNATED"]


def test_eligibility_pending_spouse_and_zero_balance(institution_api, family):
    _pending_spouse(family)
    response = post(institution_api, "eligibility", {"member_id_number": family["spouse"].id_number})
    assert response.json()["eligible"] is False
    assert codes(response) == ["CONFIRMATION_PENDING"]


def test_eligibility_unknown_member_is_422_and_bad_input_400(institution_api, family):
    response = post(institution_api, "eligibility", {"member_id_number": factories.id_number()})
    assert response.status_code == 422 and response.json()["code"] == "PERSON_NOT_FOUND"
    for data in [
        {},
        {"member_id_number": "123"},
        {"member_id_number": family["parent"].id_number, "category": "spa"},
        {"member_id_number": family["parent"].id_number, "kinship": "cousin"},
    ]:
        assert post(institution_api, "eligibility", data).status_code == 400, data


def test_schema_documents_every_bindings_endpoint(staff_api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for path in [
        "/api/v1/authorizations",
        "/api/v1/authorizations/{id}/confirm",
        "/api/v1/authorizations/{id}/revoke",
        "/api/v1/persons/{person_no}/authorizations",
        "/api/v1/eligibility",
    ]:
        operation = next(iter(paths[path].values()))
        assert "401" in operation["responses"], path
    assert "422" in paths["/api/v1/authorizations"]["post"]["responses"]
    assert "409" in paths["/api/v1/authorizations/{id}/revoke"]["post"]["responses"]


def test_confirm_and_revoke_record_the_channel_used(channel_api, family):
    authorization = _pending_spouse(family)
    post(channel_api, f"authorizations/{authorization.pk}/confirm", {"decision": "accept", "channel": "online_hall"})
    post(channel_api, f"authorizations/{authorization.pk}/revoke", {"reason": "离婚"})
    events = dict(authorization.events.values_list("action", "channel"))
    assert events == {"create": "app", "confirm": "online_hall", "revoke": "app"}


def test_eligibility_after_decline_or_revoke_says_why_there_is_none(channel_api, institution_api, family):
    declined = _pending_spouse(family)
    post(channel_api, f"authorizations/{declined.pk}/confirm", {"decision": "decline"})
    response = post(institution_api, "eligibility", {"member_id_number": family["spouse"].id_number})
    assert response.json()["eligible"] is False
    assert codes(response) == ["NO_AUTHORIZATION", "CONFIRMATION_DECLINED"]
    revoked = factories.authorization(family["grantor"], family["parent"])
    post(channel_api, f"authorizations/{revoked.pk}/revoke", {"reason": "不再需要"})
    response = post(
        institution_api,
        "eligibility",
        {"member_id_number": family["parent"].id_number, "grantor_id_number": family["grantor"].id_number},
    )
    assert response.json()["eligible"] is False
    assert {"NO_AUTHORIZATION", "AUTHORIZATION_NOT_EFFECTIVE"} <= set(codes(response))
