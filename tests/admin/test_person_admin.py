"""Person admin: exact-match search, masking, no full COUNT, services on save (R13), read-only ledger."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.id_numbers import mask_id_number, mask_name
from accounts.models import InsuranceStatus, LedgerEntry, Person, PersonalAccount
from accounts.reasons import Reason
from bindings.models import AuditAction, AuthorizationStatus, Channel
from tests import factories

CHANGELIST = "admin:accounts_person_changelist"
pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return [
        factories.grantor(name="王建国"),
        factories.person(name="王建军"),
        factories.resident(name="欧阳娜娜"),
    ]


def listed(response):
    return {p.person_no for p in response.context["cl"].result_list}


@pytest.mark.parametrize("how", ["person_no", "name"])
def test_person_search_by_exact_key(counter, people, how):
    target = people[0]
    term = {"person_no": target.person_no, "name": "王建国"}[how]
    response = counter.get(reverse(CHANGELIST), {"q": term})
    assert response.status_code == 200
    assert listed(response) == {target.person_no}


@pytest.mark.parametrize("lowercase_x", [False, True])
def test_an_id_number_in_the_search_box_is_not_searched_and_leaves_the_url(counter, people, lowercase_x):
    """The GET box would put the number in the address bar, the history, a proxy's log and every filter link of
    the page: the list answers with a redirect without it and points to the POST box."""
    number = people[0].id_number.lower() if lowercase_x else people[0].id_number
    response = counter.get(reverse(CHANGELIST), {"q": number, "insurance_status__exact": "normal"})
    assert response.status_code == 302
    assert number.upper() not in response["Location"].upper()
    assert "insurance_status__exact=normal" in response["Location"]
    page = counter.get(response["Location"]).content.decode()
    assert "身份证号不能在地址栏中查询" in page
    assert people[0].id_number not in page


def test_an_18_digit_person_number_is_still_found(counter, region_suzhou):
    person = factories.person(name="钱多多")
    Person.objects.filter(pk=person.pk).update(person_no="320500000000000018")
    person.refresh_from_db()
    assert listed(counter.get(reverse(CHANGELIST), {"q": person.person_no})) == {person.person_no}
    response = counter.post("/admin/accounts/person/find/", {"id_number": person.person_no})
    assert response["Location"].endswith(f"/admin/accounts/person/{person.pk}/change/")


def test_the_search_box_sends_id_numbers_to_the_post_box(counter, people):
    listing = counter.get(reverse(CHANGELIST)).content.decode()
    assert "lookup.submit()" in listing and "/^[0-9]{17}[0-9Xx]$/" in listing


def test_person_search_by_name_prefix_only_with_star(counter, people):
    assert listed(counter.get(reverse(CHANGELIST), {"q": "王建"})) == set()
    assert listed(counter.get(reverse(CHANGELIST), {"q": "王建*"})) == {people[0].person_no, people[1].person_no}


def test_person_search_runs_equality_not_icontains(counter, people):
    with CaptureQueriesContext(connection) as queries:
        counter.get(reverse(CHANGELIST), {"q": people[0].person_no})
    person_queries = [q["sql"] for q in queries.captured_queries if '"accounts_person"' in q["sql"]]
    assert person_queries
    assert not any("LIKE" in sql.upper() for sql in person_queries)


def test_lists_mask_id_numbers_and_names(counter, people):
    response = counter.get(reverse(CHANGELIST))
    html = response.content.decode()
    for person in people:
        assert mask_id_number(person.id_number) in html
        assert person.id_number not in html
        assert mask_name(person.name) in html
    assert "王建国" not in html and "欧阳娜娜" not in html


@pytest.mark.parametrize("group", [factories.COUNTER_GROUP, factories.AUDITOR_GROUP])
def test_detail_page_shows_the_full_id_number(client, people, group):
    client.force_login(factories.staff_user(group))
    response = client.get(reverse("admin:accounts_person_change", args=[people[0].pk]))
    assert response.status_code == 200
    assert people[0].id_number in response.content.decode()


def test_changelist_never_runs_a_full_count(counter, people):
    with CaptureQueriesContext(connection) as queries:
        response = counter.get(reverse(CHANGELIST))
        counter.get(reverse(CHANGELIST), {"insurance_status__exact": "normal"})
    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the capped count should run"
    assert all("LIMIT" in sql.upper() for sql in counts), counts


def test_changelist_query_count_is_bounded(counter, people, django_assert_max_num_queries):
    for _ in range(5):
        factories.person()
    with django_assert_max_num_queries(12):
        counter.get(reverse(CHANGELIST))


def test_counter_creates_a_person_through_the_service(counter, region_suzhou):
    number = factories.id_number(region_code="320502")
    response = counter.post(
        reverse("admin:accounts_person_add"),
        {"id_number": number, "person_no": "", "name": " 赵敏 ", "insurance_type": "310",
         "insurance_status": "normal", "region": "320500", "category": "", "phone": ""},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = Person.objects.get(id_number=number)
    assert person.name == "赵敏"
    assert person.person_no.startswith("320500")
    assert PersonalAccount.objects.filter(person=person).exists()  # person_create opens the account


@pytest.mark.parametrize(
    "bad, message",
    [
        ("32050219800101123", "身份证号须为17位数字加1位数字或X。"),
        ("320502198013011234", "身份证号中的出生日期不存在。"),
        ("320502198001011230", "身份证号校验码错误。"),
    ],
)
def test_person_form_refuses_bad_id_numbers_in_chinese(counter, region_suzhou, bad, message):
    if bad.endswith("1230"):  # make sure the check character really is wrong
        from accounts.id_numbers import check_character

        right = check_character(bad[:17])
        bad = bad[:17] + ("1" if right != "1" else "2")
    response = counter.post(
        reverse("admin:accounts_person_add"),
        {"id_number": bad, "name": "赵敏", "insurance_type": "310", "insurance_status": "normal", "region": "320500"},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Person.objects.filter(name="赵敏").exists()


def test_people_are_never_deleted(supervisor, people):
    response = supervisor.get(reverse("admin:accounts_person_delete", args=[people[0].pk]))
    assert response.status_code == 403


def test_r13_admin_suspending_member_terminates_authorization(counter, jiangsu_policy):
    grantor = factories.grantor()
    member = factories.resident()
    authorization = factories.authorization(grantor, member, "parent")
    assert authorization.status == AuthorizationStatus.ACTIVE
    response = counter.post(
        reverse("admin:accounts_person_change", args=[member.pk]),
        {"name": member.name, "insurance_type": member.insurance_type, "insurance_status": "suspended",
         "region": member.region_id, "category": "", "phone": ""},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    authorization.refresh_from_db()
    member.refresh_from_db()
    assert member.insurance_status == InsuranceStatus.SUSPENDED
    assert authorization.status == AuthorizationStatus.TERMINATED
    event = authorization.events.get(action=AuditAction.TERMINATE)
    assert event.channel == Channel.COUNTER
    assert event.acting_user == counter.user
    page = counter.get(response["Location"]).content.decode()
    assert "已按规定自动解除 1 条家庭共济授权（R13）" in page


def test_a_change_that_ends_no_authorization_says_nothing_about_r13(counter, jiangsu_policy):
    grantor = factories.grantor()
    factories.authorization(grantor, factories.resident(), "parent")
    response = counter.post(
        reverse("admin:accounts_person_change", args=[grantor.pk]),
        {"name": grantor.name, "insurance_type": grantor.insurance_type, "insurance_status": "normal",
         "region": grantor.region_id, "category": "", "phone": "13800000000"},
        follow=True,
    )
    assert "R13" not in response.content.decode().split('id="content-main"')[0]


def test_person_page_shows_ledger_authorizations_and_diagnosis(counter, jiangsu_policy):
    grantor = factories.grantor()
    member = factories.resident()
    factories.authorization(grantor, member, "parent")
    lonely = factories.resident(name="孙丽")
    html = counter.get(reverse("admin:accounts_person_change", args=[grantor.pk])).content.decode()
    assert "为什么不能共济？" in html
    assert "授权记录" in html and "收支明细" in html
    assert "1000.00" in html  # opening balance entry
    assert "办理家庭共济绑定" in html and "解除该主账户人的共济关系" in html
    html = counter.get(reverse("admin:accounts_person_change", args=[lonely.pk])).content.decode()
    assert "NO_AUTHORIZATION" in html
    assert chinese("NO_AUTHORIZATION") in html


def chinese(code):
    with translation.override("zh-hans"):
        return Reason.of(code).message


def test_auditor_sees_people_read_only(auditor, people):
    response = auditor.get(reverse("admin:accounts_person_change", args=[people[0].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="_save"' not in html
    assert "办理家庭共济绑定" not in html
    response = auditor.post(reverse("admin:accounts_person_change", args=[people[0].pk]), {"name": "x"})
    assert response.status_code == 403


GROUPS = [factories.COUNTER_GROUP, factories.SUPERVISOR_GROUP, factories.AUDITOR_GROUP, None]


@pytest.mark.parametrize("group", GROUPS)
def test_nobody_adds_changes_or_deletes_ledger_rows(client, people, group):
    user = factories.staff_user(group, superuser=group is None)
    client.force_login(user)
    entry = LedgerEntry.objects.first()
    assert client.get(reverse("admin:accounts_ledgerentry_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_ledgerentry_add")).status_code == 403
    assert client.get(reverse("admin:accounts_ledgerentry_delete", args=[entry.pk])).status_code == 403
    response = client.post(reverse("admin:accounts_ledgerentry_change", args=[entry.pk]), {"amount": "9999.00"})
    assert response.status_code == 403
    page = client.get(reverse("admin:accounts_ledgerentry_change", args=[entry.pk])).content.decode()
    assert 'name="_save"' not in page
    entry.refresh_from_db()
    assert str(entry.amount) == "1000.00"


@pytest.mark.parametrize("group", GROUPS)
def test_personal_accounts_are_read_only(client, people, group):
    client.force_login(factories.staff_user(group, superuser=group is None))
    account = PersonalAccount.objects.first()
    assert client.get(reverse("admin:accounts_personalaccount_add")).status_code == 403
    assert client.post(reverse("admin:accounts_personalaccount_change", args=[account.pk]), {}).status_code == 403
    assert client.get(reverse("admin:accounts_personalaccount_delete", args=[account.pk])).status_code == 403


@pytest.mark.postgres
def test_unfiltered_changelist_uses_the_planner_estimate_on_postgresql(counter, people, monkeypatch):
    import accounts.admin

    monkeypatch.setattr(accounts.admin, "COUNT_CAP", 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_person")
    with CaptureQueriesContext(connection) as queries:
        response = counter.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert any("reltuples" in q["sql"] for q in queries.captured_queries)


def test_find_by_id_number_posts_and_keeps_the_number_out_of_the_url(counter):
    person = factories.person(name="赵丽")
    response = counter.post("/admin/accounts/person/find/", {"id_number": person.id_number.lower()})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/admin/accounts/person/{person.pk}/change/")
    assert person.id_number not in response["Location"]
    missing = counter.post("/admin/accounts/person/find/", {"id_number": factories.id_number()}, follow=True)
    assert "未找到该身份证号对应的参保人员" in missing.content.decode()
    assert counter.get("/admin/accounts/person/find/").status_code == 403
    listing = counter.get("/admin/accounts/person/").content.decode()
    assert 'id="id-number-lookup"' in listing and 'method="post"' in listing
