"""python manage.py expire_authorizations."""

import datetime
import io

from django.core.management import call_command
from django.utils import timezone

from bindings.models import Authorization, AuthorizationStatus
from tests import factories


def test_expire_authorizations_marks_past_ones_and_prints_how_many(jiangsu_policy):
    grantor = factories.grantor()
    past = [
        factories.authorization(grantor, factories.resident(), valid_to=timezone.now() + datetime.timedelta(days=1))
        for _ in range(2)
    ]
    open_ended = factories.authorization(grantor, factories.resident())
    Authorization.objects.filter(pk__in=[a.pk for a in past]).update(
        valid_from=timezone.now() - datetime.timedelta(days=30), valid_to=timezone.now() - datetime.timedelta(days=1)
    )
    out = io.StringIO()
    call_command("expire_authorizations", stdout=out)
    assert "2" in out.getvalue()
    assert set(Authorization.objects.filter(pk__in=[a.pk for a in past]).values_list("status", flat=True)) == {
        AuthorizationStatus.EXPIRED
    }
    open_ended.refresh_from_db()
    assert open_ended.status == AuthorizationStatus.ACTIVE
    assert Authorization.objects.get(pk=past[0].pk).events.filter(action="expire").count() == 1
    out = io.StringIO()
    call_command("expire_authorizations", stdout=out)
    assert "0" in out.getvalue()
