"""异地就医备案 at the counter: the person is entered by ID number (not by an internal row id through a search that
would put the ID number in the address bar), and a period that ends before it starts is a Chinese form error."""

import pytest
from django.urls import reverse

from accounts.id_numbers import mask_name
from accounts.models import CrossRegionFiling
from tests import factories

pytestmark = pytest.mark.django_db
ADD = "admin:accounts_crossregionfiling_add"


def test_counter_files_a_cross_region_filing_by_id_number(counter, region_suzhou, region_nanjing):
    person = factories.person(name="钱学平", region_code="320500")
    page = counter.get(reverse(ADD)).content.decode()
    assert 'name="person_id_number"' in page and "vForeignKeyRawIdAdminField" not in page
    response = counter.post(reverse(ADD), {"person_id_number": person.id_number.lower(), "treatment_region": "320100",
                                           "start_date": "2026-12-01", "end_date": ""})
    assert response.status_code == 302
    filing = CrossRegionFiling.objects.get()
    assert filing.person == person and filing.treatment_region_id == "320100"
    change = counter.get(reverse("admin:accounts_crossregionfiling_change", args=[filing.pk])).content.decode()
    assert person.id_number not in change and mask_name(person.name) in change


@pytest.mark.parametrize(
    "override, message",
    [
        ({"end_date": "2026-11-01"}, "结束日期不得早于开始日期。"),
        ({"person_id_number": "320502198001011230"}, "身份证号校验码错误。"),
    ],
)
def test_filing_errors_are_chinese_form_errors(counter, region_suzhou, region_nanjing, override, message):
    person = factories.person(region_code="320500")
    data = {"person_id_number": person.id_number, "treatment_region": "320100", "start_date": "2026-12-01",
            "end_date": "", **override}
    response = counter.post(reverse(ADD), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html and "filing_end_after_start" not in html
    assert not CrossRegionFiling.objects.exists()


def test_a_filing_is_edited_without_naming_its_person_again(counter, region_suzhou, region_nanjing):
    person = factories.person(region_code="320500")
    filing = CrossRegionFiling.objects.create(person=person, treatment_region_id="320100", start_date="2026-12-01")
    response = counter.post(reverse("admin:accounts_crossregionfiling_change", args=[filing.pk]),
                            {"treatment_region": "320100", "start_date": "2026-12-01", "end_date": "2027-06-30"})
    assert response.status_code == 302
    filing.refresh_from_db()
    assert str(filing.end_date) == "2027-06-30" and filing.person == person
