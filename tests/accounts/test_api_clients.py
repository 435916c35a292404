"""create_api_client (api.md "Clients and roles")."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.api.auth import token_hash
from accounts.models import ApiClient


def run(*args):
    out = io.StringIO()
    call_command("create_api_client", *args, stdout=out)
    return out.getvalue()


def test_create_api_client_prints_token_as_last_line_and_stores_only_its_hash(db, staff_api):
    output = run("查询平台", "--role", "staff")
    token = output.strip().splitlines()[-1]
    client = ApiClient.objects.get(name="查询平台")
    assert client.token_hash == token_hash(token)
    assert token not in client.token_hash


def test_institution_client_needs_an_existing_institution_code(db, institution):
    with pytest.raises(CommandError, match="--institution"):
        run("医院", "--role", "institution")
    with pytest.raises(CommandError, match="不存在"):
        run("医院", "--role", "institution", "--institution", "NOPE")
    run("医院", "--role", "institution", "--institution", institution.code)
    assert ApiClient.objects.get(name="医院").institution == institution


def test_token_authenticates_against_the_api(db):
    token = run("渠道", "--role", "channel").strip().splitlines()[-1]
    from rest_framework.test import APIClient

    api = APIClient()
    assert api.post("/api/v1/persons/lookup", {"id_number": "x"}, format="json").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.post("/api/v1/persons/lookup", {"id_number": "110101199003070000"}, format="json")
    assert response.status_code in (400, 404)


def test_same_name_again_creates_another_client_and_both_tokens_work(db):
    """api.md: the command creates a client and prints its token; running it twice must not leave a caller
    without one (a second credential of the same system, told apart by its id and token prefix)."""
    from rest_framework.test import APIClient

    from accounts.models import ApiClient

    first = run("渠道", "--role", "channel").strip().splitlines()[-1]
    second = run("渠道", "--role", "channel").strip().splitlines()[-1]
    assert first != second and ApiClient.objects.filter(name="渠道").count() == 2
    for token in (first, second):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = api.post("/api/v1/persons/lookup", {"id_number": "110101199003070000"}, format="json")
        assert response.status_code in (400, 404)
