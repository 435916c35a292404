"""api.md `POST authorizations`, `confirm`, `revoke`, `GET persons/{person_no}/authorizations`, reason codes of
binding (R1–R11), R13 through the roster import, and the policy-in-force rule of imports.md."""

import datetime
import re

from tests.contract.conftest import NEAR, PEOPLE, PERSON_HEADER, make_id
from tests.contract.test_api_persons import error_shape

RECORD_FIELDS = {"id", "grantor", "member", "kinship", "status", "valid_from", "valid_to", "channel", "created_at",
                 "ended_at", "end_reason"}  # fmt: skip
OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+08:00$")


def codes(response):
    return [r["code"] for r in response.json()["reasons"]]


def roster_row(key, status="正常参保", region=None):
    idn, name, itype, reg, no = PEOPLE[key]
    return [idn, name, itype, status, region or reg, "", no, ""]


def test_create_child_active_201(world):
    r = world.bind()
    assert r.status_code == 201, r.content
    body = r.json()
    assert set(body) >= RECORD_FIELDS
    assert body["status"] == "active"
    assert body["kinship"] == "child"
    assert body["grantor"]["person_no"] == "G0001" and body["grantor"]["name"] == "张*"
    assert body["member"]["id_number"].count("*") == 8
    assert OFFSET.match(body["created_at"]), body["created_at"]
    assert OFFSET.match(body["valid_from"]), body["valid_from"]
    assert body["valid_to"] is None and body["ended_at"] is None


def test_spouse_pending_then_accept(world):
    r = world.bind(member="spouse", kinship="spouse")
    assert r.status_code == 201 and r.json()["status"] == "pending_confirmation"
    pk = r.json()["id"]
    ok = world.channel.post(f"/api/v1/authorizations/{pk}/confirm", {"decision": "accept"}, format="json")
    assert ok.status_code == 200 and ok.json()["status"] == "active"


def test_spouse_decline(world):
    pk = world.bind(member="spouse", kinship="spouse").json()["id"]
    r = world.channel.post(f"/api/v1/authorizations/{pk}/confirm", {"decision": "decline"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "declined"
    error_shape(world.channel.post(f"/api/v1/authorizations/{pk}/confirm", {"decision": "accept"}, format="json"), 409)


def test_confirm_bad_decision_400_and_unknown_404(world):
    pk = world.bind(member="spouse", kinship="spouse").json()["id"]
    error_shape(world.channel.post(f"/api/v1/authorizations/{pk}/confirm", {"decision": "maybe"}, format="json"), 400)
    error_shape(world.channel.post("/api/v1/authorizations/999999/confirm", {"decision": "accept"}, format="json"), 404)


def test_revoke(world):
    pk = world.bind().json()["id"]
    r = world.channel.post(f"/api/v1/authorizations/{pk}/revoke", {"reason": "家庭原因"}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "revoked"
    assert OFFSET.match(body["ended_at"])
    assert body["end_reason"]
    error_shape(world.channel.post(f"/api/v1/authorizations/{pk}/revoke", {"reason": "再次"}, format="json"), 409)
    error_shape(world.channel.post("/api/v1/authorizations/999999/revoke", {"reason": "x"}, format="json"), 404)


def test_revoke_without_reason_400(world):
    pk = world.bind().json()["id"]
    error_shape(world.channel.post(f"/api/v1/authorizations/{pk}/revoke", {}, format="json"), 400)


def test_every_reason_listed(world):
    """A resident grantor, an in-law kinship and no promise: all three reasons, not only the first."""
    r = world.bind(grantor="mother", member="child", kinship="other", promise_accepted=False)
    body = error_shape(r, 422)
    assert {"GRANTOR_NOT_EMPLOYEE", "RELATION_NOT_ALLOWED", "PROMISE_REQUIRED"} <= set(codes(r)), body


def test_self_authorization(world):
    r = world.bind(member="grantor", kinship="child")
    error_shape(r, 422)
    assert "SELF_AUTHORIZATION" in codes(r)


def test_region_out_of_scope(world):
    r = world.bind(member="faraway", kinship="sibling")
    error_shape(r, 422)
    assert "REGION_OUT_OF_SCOPE" in codes(r)


def test_grantor_balance_zero(world):
    r = world.bind(grantor="other_grantor", member="mother", kinship="parent")
    error_shape(r, 422)
    assert codes(r) == ["GRANTOR_BALANCE_ZERO"]


def test_member_already_bound_and_person_in_other_relationship(world):
    assert world.bind().status_code == 201
    world.credit("other_grantor", "50.00")
    r = world.bind(grantor="other_grantor", member="child", kinship="child")
    error_shape(r, 422)
    assert "MEMBER_ALREADY_BOUND" in codes(r)
    r = world.bind(grantor="other_grantor", member="grantor", kinship="sibling")
    assert "PERSON_IN_OTHER_RELATIONSHIP" in codes(r)


def test_duplicate(world):
    assert world.bind().status_code == 201
    r = world.bind()
    error_shape(r, 422)
    assert "DUPLICATE_AUTHORIZATION" in codes(r)


def test_invalid_period(world):
    r = world.bind(valid_from="2020-01-01T00:00:00+08:00")
    error_shape(r, 422)
    assert "INVALID_PERIOD" in codes(r)
    start = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)).isoformat()
    r = world.bind(valid_from=start, valid_to=start)
    assert "INVALID_PERIOD" in codes(r)


def test_open_end_and_future_window_allowed(world):
    start = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)).replace(microsecond=0)
    end = start + datetime.timedelta(days=30)
    r = world.bind(valid_from=start.isoformat(), valid_to=end.isoformat())
    assert r.status_code == 201, r.content
    assert OFFSET.match(r.json()["valid_to"])


def test_promise_required(world):
    r = world.bind(promise_accepted=False)
    error_shape(r, 422)
    assert codes(r) == ["PROMISE_REQUIRED"]


def test_member_not_insured_and_status_not_normal(world, imp):
    imp.ok("persons", [PERSON_HEADER, roster_row("mother", "未参保"), roster_row("child", "暂停参保")])
    r = world.bind(member="mother", kinship="parent")
    assert "MEMBER_NOT_INSURED" in codes(r)
    r = world.bind(member="child", kinship="child")
    assert "MEMBER_STATUS_NOT_NORMAL" in codes(r)
    imp.ok("persons", [PERSON_HEADER, roster_row("grantor", "终止参保")])
    r = world.bind(member="sibling", kinship="sibling")
    assert "GRANTOR_STATUS_NOT_NORMAL" in codes(r)


def test_unknown_person_422_person_not_found(world):
    body = {"grantor_id_number": world.grantor.id_number, "member_id_number": make_id("19990101", "771"),
            "kinship": "child", "promise_accepted": True}  # fmt: skip
    r = world.channel.post("/api/v1/authorizations", body, format="json")
    error_shape(r, 422)
    assert "PERSON_NOT_FOUND" in codes(r)


def test_malformed_body_400(world):
    bad = world.child.id_number[:17] + ("0" if world.child.id_number[17] != "0" else "1")
    error_shape(world.bind(member_id_number=bad), 400)
    error_shape(world.bind(kinship="cousin"), 400)
    error_shape(world.bind(valid_from="tomorrow"), 400)


def test_all_kinship_values_accepted_by_the_api(world):
    for kinship in ["spouse", "parent", "child", "sibling", "paternal_grandparent", "maternal_grandparent",
                    "grandchild", "maternal_grandchild", "other"]:  # fmt: skip
        r = world.bind(member="faraway", kinship=kinship)
        assert r.status_code == 422 and "REGION_OUT_OF_SCOPE" in codes(r), (kinship, r.content)


def test_records_newest_first_both_sides_masked(world):
    first = world.bind(member="mother", kinship="parent").json()["id"]
    world.channel.post(f"/api/v1/authorizations/{first}/revoke", {"reason": "变更"}, format="json")
    second = world.bind(member="child").json()["id"]
    r = world.channel.get(f"/api/v1/persons/{world.grantor.person_no}/authorizations")
    assert r.status_code == 200
    body = r.json()
    items = body["results"] if isinstance(body, dict) else body
    assert [i["id"] for i in items] == [second, first]
    assert set(items[0]) >= RECORD_FIELDS
    assert items[1]["status"] == "revoked"
    assert items[0]["grantor"]["name"] == "张*"
    # the member sees it too
    member_items = world.channel.get(f"/api/v1/persons/{world.child.person_no}/authorizations").json()
    member_items = member_items["results"] if isinstance(member_items, dict) else member_items
    assert [i["id"] for i in member_items] == [second]
    staff = world.staff.get(f"/api/v1/persons/{world.child.person_no}/authorizations").json()
    staff = staff["results"] if isinstance(staff, dict) else staff
    assert staff[0]["member"]["name"] == "张小明" and staff[0]["member"]["id_number"] == world.child.id_number


def test_r13_roster_suspension_terminates(world, imp):
    pk = world.bind().json()["id"]
    out = imp.ok("persons", [PERSON_HEADER, roster_row("child", "暂停参保")])
    assert "更新 1" in out
    items = world.staff.get(f"/api/v1/persons/{world.child.person_no}/authorizations").json()
    items = items["results"] if isinstance(items, dict) else items
    record = next(i for i in items if i["id"] == pk)
    assert record["status"] == "terminated"
    assert record["ended_at"] and record["end_reason"]


def test_r13_grantor_moves_region_ends_relationship(world, imp):
    pk = world.bind().json()["id"]
    imp.ok("persons", [PERSON_HEADER, roster_row("grantor", region="320100")])
    items = world.staff.get(f"/api/v1/persons/{world.grantor.person_no}/authorizations").json()
    items = items["results"] if isinstance(items, dict) else items
    assert next(i for i in items if i["id"] == pk)["status"] == "terminated"


POLICY_HEADER = ["区划代码", "生效日期", "共济亲属范围", "地域范围", "配偶需确认", "限一个共济关系"]


def test_pooling_region_policy_beats_province(world, imp):
    imp.ok("policies", [POLICY_HEADER, ["320500", "2024-06-01", "配偶,父母,子女", "统筹区", "否", "是"]])
    r = world.bind(member="sibling", kinship="sibling")
    assert {"RELATION_NOT_ALLOWED", "REGION_OUT_OF_SCOPE"} <= set(codes(r))
    # spouse confirmation off in the pooling region's policy: active at once
    r = world.bind(member="spouse", kinship="spouse")
    assert r.status_code == 201 and r.json()["status"] == "active"


def test_future_policy_not_yet_applied(world, imp):
    future = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    imp.ok("policies", [POLICY_HEADER, ["320000", future, "配偶", "统筹区", "否", "是"]])
    r = world.bind(member="sibling", kinship="sibling")
    assert r.status_code == 201, r.content


def test_latest_effective_date_applies(world, imp):
    imp.ok("policies", [POLICY_HEADER, ["320000", "2025-01-01", "配偶、父母、子女", "省内", "是", "是"]])
    r = world.bind(member="sibling", kinship="sibling")
    assert "RELATION_NOT_ALLOWED" in codes(r)
    imp.ok("policies", [POLICY_HEADER, ["320000", "2025-06-01", NEAR, "全国", "是", "否"]])
    assert world.bind(member="faraway", kinship="sibling").status_code == 201


def test_single_relationship_off_allows_second_grantor(world, imp):
    imp.ok("policies", [POLICY_HEADER, ["320000", "2025-01-01", NEAR, "省内", "是", "否"]])
    world.credit("other_grantor", "10.00")
    assert world.bind().status_code == 201
    r = world.bind(grantor="other_grantor")
    assert r.status_code == 201, r.content
