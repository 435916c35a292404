"""docs/api.md "Lists": `?page=` and `?page_size=` are positive whole numbers; anything else is malformed input, 400 in
the error shape (api.md "Conventions"), not DRF's 404 for such a page or its silent default for such a size (found by
fuzzing the lists against their schema, which declares both integers)."""

import pytest

from tests.contract.test_api_expenditures_ledger import setup_history
from tests.contract.test_api_persons import error_shape

ENDPOINTS = ["ledger", "expenditures", "authorizations"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "query",
    [{"page": "abc"}, {"page": "0"}, {"page": "-1"}, {"page": "1.5"}, {"page": "２"},
     {"page_size": "false"}, {"page_size": "0"}, {"page_size": "-5"}, {"page_size": "10abc"}],
)  # fmt: skip
def test_a_page_or_size_that_is_not_a_positive_whole_number_is_400(world, endpoint, query):
    setup_history(world)
    r = world.staff.get(f"/api/v1/persons/{world.grantor.person_no}/{endpoint}", query)
    error_shape(r, 400, "INVALID_INPUT")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_pages_as_documented(world, endpoint):
    setup_history(world)
    base = f"/api/v1/persons/{world.grantor.person_no}/{endpoint}"
    whole = world.staff.get(base).json()
    assert whole["count"] >= 1
    assert world.staff.get(base, {"page": "1", "page_size": "1"}).json()["results"] == whole["results"][:1]
    assert world.staff.get(base, {"page": "last", "page_size": "1"}).json()["results"] == whole["results"][-1:]
    assert world.staff.get(base, {"page": "", "page_size": ""}).json() == whole
    assert len(world.staff.get(base, {"page_size": "100000"}).json()["results"]) == whole["count"]  # cut to 500
    error_shape(world.staff.get(base, {"page": "999"}), 404, "NOT_FOUND")  # past the last page
