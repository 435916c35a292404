"""api.md `GET persons/{person_no}/expenditures` (支出明细, S8) and `GET persons/{person_no}/ledger`."""

from decimal import Decimal

from tests.contract.test_api_authorizations import OFFSET
from tests.contract.test_api_persons import error_shape

LINE_FIELDS = {"settlement_id", "occurred_at", "member", "kinship", "institution", "category", "amount",
               "balance_after"}  # fmt: skip
LEDGER_FIELDS = {"occurred_at", "kind", "amount", "balance_after", "settlement_id", "counterparty"}


def setup_history(world):
    """Two mutual-aid payments for the child (March and May 2025), the first reversed afterwards."""
    world.bind()
    first = world.settle(external_id="A", occurred_at="2025-03-01T10:00:00+08:00").json()
    second = world.settle(external_id="B", total="50.00", fund="20.00", occurred_at="2025-05-01T09:00:00+08:00").json()
    assert world.hospital.post(f"/api/v1/settlements/{first['id']}/reversal", {}, format="json").status_code == 200
    return first, second


def test_expenditures_reversed_kept_refund_own_line_net_total(world):
    first, second = setup_history(world)
    r = world.channel.get(f"/api/v1/persons/{world.grantor.person_no}/expenditures")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 3
    assert body["total_amount"] == "30.00"
    lines = body["results"]
    assert all(set(line) >= LINE_FIELDS for line in lines)
    # newest first: the refund (made now), then May, then March
    assert [line["amount"] for line in lines] == ["-60.00", "30.00", "60.00"]
    assert [line["settlement_id"] for line in lines] == [first["id"], second["id"], first["id"]]
    assert lines[2]["reversed"] is True and lines[1]["reversed"] is False
    march = lines[2]
    assert march["member"]["person_no"] == "C0001" and march["member"]["name"] == "张**"
    assert march["kinship"] == "child"
    assert march["institution"] == {"code": "H001", "name": "苏州市立医院"}
    assert march["category"] == "medical"
    assert march["balance_after"] == "940.00"
    assert OFFSET.match(march["occurred_at"]) and march["occurred_at"].startswith("2025-03-01T10:00:00")
    assert lines[1]["balance_after"] == "910.00" and lines[0]["balance_after"] == "970.00"


def test_expenditures_from_to_filters(world):
    setup_history(world)
    base = f"/api/v1/persons/{world.grantor.person_no}/expenditures"
    body = world.channel.get(base, {"from": "2025-03-01", "to": "2025-03-31"}).json()
    assert body["count"] == 1 and body["total_amount"] == "60.00"
    body = world.channel.get(base, {"from": "2025-04-01", "to": "2025-05-01"}).json()  # `to` includes the day
    assert body["count"] == 1 and body["total_amount"] == "30.00"
    body = world.channel.get(base, {"to": "2025-12-31"}).json()
    assert body["count"] == 2 and body["total_amount"] == "90.00"
    error_shape(world.channel.get(base, {"from": "yesterday"}), 400)


def test_expenditures_pagination_keeps_whole_range_totals(world):
    setup_history(world)
    base = f"/api/v1/persons/{world.grantor.person_no}/expenditures"
    body = world.staff.get(base, {"page_size": 1}).json()
    assert len(body["results"]) == 1 and body["count"] == 3 and body["total_amount"] == "30.00"
    assert body["next"]
    assert world.grantor.id_number not in body["next"]
    page2 = world.staff.get(base, {"page_size": 1, "page": 2}).json()
    assert page2["results"][0]["amount"] == "30.00"
    assert body["results"][0]["member"]["name"] == "张小明"  # staff: in full


def test_expenditures_empty_and_404(world):
    body = world.channel.get(f"/api/v1/persons/{world.grantor.person_no}/expenditures").json()
    assert body["count"] == 0 and body["total_amount"] == "0.00" and body["results"] == []
    error_shape(world.channel.get("/api/v1/persons/NOPE/expenditures"), 404)


def test_ledger_every_entry(world):
    first, second = setup_history(world)
    r = world.channel.get(f"/api/v1/persons/{world.grantor.person_no}/ledger")
    assert r.status_code == 200
    body = r.json()
    entries = body["results"] if isinstance(body, dict) else body
    assert all(set(e) >= LEDGER_FIELDS for e in entries)
    assert [(e["amount"], e["balance_after"]) for e in entries] == [
        ("60.00", "970.00"),  # refund (now)
        ("-30.00", "910.00"),  # May
        ("-60.00", "940.00"),  # March
        ("1000.00", "1000.00"),  # credit 2025-01-01
    ]
    assert entries[-1]["settlement_id"] is None
    assert entries[1]["settlement_id"] == second["id"] and entries[2]["settlement_id"] == first["id"]
    assert entries[2]["counterparty"]  # the member and institution paid for
    assert all(OFFSET.match(e["occurred_at"]) for e in entries)
    kinds = [e["kind"] for e in entries]
    assert kinds[-1] == "allocation" and kinds[1] == "mutual_aid_payment"
    assert sum(Decimal(e["amount"]) for e in entries) == Decimal("970.00")
    assert world.channel.get(f"/api/v1/persons/{world.grantor.person_no}").json()["balance"] == "970.00"


def test_ledger_filters(world):
    setup_history(world)
    base = f"/api/v1/persons/{world.grantor.person_no}/ledger"
    body = world.channel.get(base, {"from": "2025-02-01", "to": "2025-05-01"}).json()
    entries = body["results"] if isinstance(body, dict) else body
    assert [e["amount"] for e in entries] == ["-30.00", "-60.00"]


def test_member_own_payment_in_ledger(world):
    world.credit("spouse", "10.00", kind="期初余额")
    world.settle(patient="spouse", total="5.00", fund="0.00")
    body = world.channel.get(f"/api/v1/persons/{world.spouse.person_no}/ledger").json()
    entries = body["results"] if isinstance(body, dict) else body
    assert [(e["kind"], e["amount"], e["balance_after"]) for e in entries] == [
        ("own_payment", "-5.00", "5.00"),
        ("opening", "10.00", "10.00"),
    ]
