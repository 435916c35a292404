"""The demo data the first README command loads: realistic, through the services, idempotent."""

import io

import pytest
from django.core.management import call_command

from accounts.id_numbers import parse_id_number
from accounts.models import ApiClient, LedgerEntry, Person
from bindings.models import Authorization

pytestmark = pytest.mark.django_db


def test_demo_data_loads_people_relationships_settlements_and_prints_logins():
    out = io.StringIO()
    call_command("load_demo_data", "--families", "8", stdout=out)
    text = out.getvalue()
    assert "用户名 clerk" in text and "用户名 supervisor" in text and "用户名 auditor" in text
    assert Person.objects.count() >= 8 * 3
    for person in Person.objects.all():
        parse_id_number(person.id_number)  # every ID number valid
    assert Authorization.objects.exists()
    assert LedgerEntry.objects.filter(kind="mutual_aid_payment").exists()
    assert ApiClient.objects.filter(role="institution").exists()
    call_command("verify_ledger", stdout=io.StringIO())


def test_demo_data_is_idempotent():
    call_command("load_demo_data", "--families", "4", stdout=io.StringIO())
    people, entries = Person.objects.count(), LedgerEntry.objects.count()
    out = io.StringIO()
    call_command("load_demo_data", "--families", "4", stdout=out)
    assert (Person.objects.count(), LedgerEntry.objects.count()) == (people, entries)
    assert "未重复载入" in out.getvalue()
