"""Dates a clerk may type that Python cannot shift: 9999-12-31 (the usual "long-term" date) and 0001-01-01 are form
errors in Chinese on every counter and report form, never a 500 page, and nothing is written."""

import pytest
from django.urls import reverse

from accounts.forms import MSG_DATE_OUT_OF_RANGE
from bindings.models import Authorization
from tests import factories

pytestmark = pytest.mark.django_db

BIND = "admin:bindings_authorization_bind"
REPORT = "/admin/settlements/settlement/expenditure/"


def bind_data(grantor, member, **extra):
    return {"grantor_id_number": grantor.id_number, "member_id_number": member.id_number, "kinship": "parent",
            "valid_from": "", "valid_to": "", "action": "check", **extra}


@pytest.mark.parametrize("field, value", [("valid_to", "9999-12-31"), ("valid_from", "0001-01-01")])
def test_bind_refuses_a_date_out_of_range_with_a_form_error(counter, family, field, value):
    grantor, mother, _wife = family
    response = counter.post(reverse(BIND), bind_data(grantor, mother, **{field: value}))
    assert response.status_code == 200
    assert MSG_DATE_OUT_OF_RANGE in response.content.decode()
    assert not Authorization.objects.exists()


def test_change_period_refuses_9999_12_31(counter, family):
    grantor, mother, _wife = family
    authorization = factories.authorization(grantor, mother, "parent")
    url = reverse("admin:bindings_authorization_change_period", args=[authorization.pk])
    response = counter.post(url, {"valid_to": "9999-12-31"})
    assert response.status_code == 200
    assert MSG_DATE_OUT_OF_RANGE in response.content.decode()
    authorization.refresh_from_db()
    assert authorization.valid_to is None


@pytest.mark.parametrize("query", ["date_to=9999-12-31", "date_from=0001-01-01"])
def test_expenditure_report_export_and_statement_refuse_out_of_range_dates(counter, family, query):
    grantor, _mother, _wife = family
    base = f"grantor={grantor.person_no}&{query}"
    response = counter.get(f"{REPORT}?{base}")
    assert response.status_code == 200
    assert MSG_DATE_OUT_OF_RANGE in response.content.decode()
    assert counter.get(f"{REPORT}export/?{base}&format=xlsx").status_code == 404
    assert counter.get(f"{REPORT}print/?{base}").status_code == 404


@pytest.mark.parametrize("month", ["9999-12", "0001-01"])
def test_monthly_summary_refuses_a_month_out_of_range(supervisor, month):
    response = supervisor.get("/admin/settlements/settlement/monthly/", {"month": month})
    assert response.status_code == 200
    assert MSG_DATE_OUT_OF_RANGE in response.content.decode()
