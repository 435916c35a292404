"""Staff groups created by migration: 窗口经办 (counter), 业务主管 (supervisor), 稽核 (auditor)."""

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("group", "allowed", "refused"),
    [
        (
            factories.COUNTER_GROUP,
            ["accounts.change_person", "bindings.add_authorization", "bindings.view_document_file"],
            ["bindings.change_policy", "settlements.change_institution", "accounts.change_ledgerentry"],
        ),
        (
            factories.SUPERVISOR_GROUP,
            ["bindings.change_policy", "settlements.change_institution", "settlements.change_catalogueitem"],
            ["accounts.change_ledgerentry", "accounts.delete_ledgerentry", "accounts.delete_person"],
        ),
        (
            factories.AUDITOR_GROUP,
            ["accounts.view_person", "accounts.view_ledgerentry", "bindings.view_authorization",
             "settlements.view_settlement", "bindings.view_document_file"],
            ["accounts.change_person", "bindings.add_authorization", "bindings.change_policy",
             "settlements.change_institution"],
        ),
    ],
)
def test_group_permissions(group, allowed, refused):
    user = factories.staff_user(group)
    assert all(user.has_perm(p) for p in allowed), [p for p in allowed if not user.has_perm(p)]
    assert not any(user.has_perm(p) for p in refused), [p for p in refused if user.has_perm(p)]


def test_nobody_may_change_or_delete_ledger_rows():
    for group in (factories.COUNTER_GROUP, factories.SUPERVISOR_GROUP, factories.AUDITOR_GROUP):
        user = factories.staff_user(group)
        assert not user.has_perm("accounts.change_ledgerentry")
        assert not user.has_perm("accounts.delete_ledgerentry")
