"""api.md `POST eligibility`: with and without a grantor, NO_AUTHORIZATION vs FAMILY_ACCOUNT_ONLY."""

from tests.contract.test_api_authorizations import codes
from tests.contract.test_api_persons import error_shape

LINK_HEADER = ["持有人身份证号", "亲属身份证号", "关系", "核验方式"]


def ask(world, api=None, **body):
    return (api or world.hospital).post("/api/v1/eligibility", body, format="json")


def test_no_authorization(world):
    r = ask(world, member_id_number=world.child.id_number)
    assert r.status_code == 200
    body = r.json()
    assert body["eligible"] is False and body["grantor"] is None
    assert codes(r) == ["NO_AUTHORIZATION"]


def test_family_account_only_after_family_links_import(world, imp):
    imp.ok("family_links", [LINK_HEADER, [world.grantor.id_number, world.child.id_number, "子女", "户口簿"]])
    r = ask(world, member_id_number=world.child.id_number)
    assert r.json()["eligible"] is False
    assert "FAMILY_ACCOUNT_ONLY" in codes(r) and "NO_AUTHORIZATION" not in codes(r)


def test_eligible_after_binding_finds_grantor(world):
    world.bind()
    r = ask(world, member_id_number=world.child.id_number)
    body = r.json()
    assert body["eligible"] is True and body["reasons"] == []
    assert body["grantor"]["person_no"] == "G0001" and body["grantor"]["name"] == "张*"
    staff = ask(world, world.staff, member_id_number=world.child.id_number).json()
    assert staff["grantor"]["id_number"] == world.grantor.id_number


def test_family_link_with_authorization_still_eligible(world, imp):
    world.bind()
    imp.ok("family_links", [LINK_HEADER, [world.grantor.id_number, world.child.id_number, "子女", "户口簿"]])
    assert ask(world, member_id_number=world.child.id_number).json()["eligible"] is True


def test_with_grantor(world):
    r = ask(world, member_id_number=world.child.id_number, grantor_id_number=world.grantor.id_number)
    assert r.json()["eligible"] is False
    assert "NO_AUTHORIZATION" in codes(r)
    world.bind()
    r = ask(world, member_id_number=world.child.id_number, grantor_id_number=world.grantor.id_number)
    assert r.json()["eligible"] is True
    r = ask(world, member_id_number=world.child.id_number, grantor_id_number=world.other_grantor.id_number)
    assert r.json()["eligible"] is False


def test_with_grantor_family_link_only(world, imp):
    imp.ok("family_links", [LINK_HEADER, [world.grantor.id_number, world.child.id_number, "子女", "户口簿"]])
    r = ask(world, member_id_number=world.child.id_number, grantor_id_number=world.grantor.id_number)
    assert "FAMILY_ACCOUNT_ONLY" in codes(r)


def test_pending_spouse_not_eligible(world):
    world.bind(member="spouse", kinship="spouse")
    r = ask(world, member_id_number=world.spouse.id_number)
    assert r.json()["eligible"] is False and "CONFIRMATION_PENDING" in codes(r)


def test_category_never_eligible(world):
    world.bind()
    r = ask(world, member_id_number=world.child.id_number, category="fitness")
    assert r.json()["eligible"] is False and "CATEGORY_NOT_ELIGIBLE" in codes(r)


def test_grantor_balance_zero_reason(world, imp):
    world.bind()
    imp.ok("credits", [["流水号", "身份证号", "金额", "类型", "入账日期"],
                       ["ADJ1", world.grantor.id_number, "-1000.00", "调整", "2025-02-01"]])  # fmt: skip
    r = ask(world, member_id_number=world.child.id_number)
    assert r.json()["eligible"] is False and "GRANTOR_BALANCE_ZERO" in codes(r)


def test_all_roles_may_ask_and_errors(world):
    for api in (world.hospital, world.channel, world.staff):
        assert ask(world, api, member_id_number=world.child.id_number).status_code == 200
    error_shape(ask(world, member_id_number="123"), 400)
    from tests.contract.conftest import make_id

    r = ask(world, member_id_number=make_id("19990101", "881"))
    error_shape(r, 422)
    assert "PERSON_NOT_FOUND" in codes(r)
