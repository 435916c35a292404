"""Shared fixtures. Tests marked `postgres` need real row locks or concurrent connections: on SQLite they
are skipped, visibly, with the reason. Tests marked `browser` drive Debian's Chromium through Playwright;
they are skipped unless Chromium is installed, and fail instead when REQUIRE_BROWSER=1 (as in .ci/run)."""

import os
import shutil

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from tests import factories

CHROMIUM = "/usr/bin/chromium"

# Property tests judge correctness, not speed (benchmarks do that): no per-example deadline on a busy
# two-core CI machine.
hypothesis_settings.register_profile("project", deadline=None)
hypothesis_settings.load_profile("project")


def pytest_collection_modifyitems(config, items):
    vendor = connection.vendor
    need_browser = os.environ.get("REQUIRE_BROWSER") == "1"
    have_browser = shutil.which(CHROMIUM) is not None
    for item in items:
        if "postgres" in item.keywords and vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (row locks / concurrent connections)"))
        if "browser" in item.keywords and not have_browser and not need_browser:
            item.add_marker(pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}"))


def _restore_migration_data():
    """`flush` also empties what data migrations wrote (staff groups, the S4 pharmacy catalogue); put it back
    so that tests after a transactional test see the database that `migrate` makes."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    groups = importlib.import_module("accounts.migrations.0004_staff_groups")
    views = [(app, f"view_{model}") for app, model in groups.READ_ALL]
    for name, extra in (
        (groups.COUNTER, groups.COUNTER_WRITES),
        (groups.SUPERVISOR, groups.SUPERVISOR_WRITES),
        (groups.AUDITOR, groups.AUDITOR_EXTRA),
    ):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in views + extra]
        )
    importlib.import_module("settlements.migrations.0002_seed_catalogue").seed(apps, None)


@pytest.fixture(autouse=True, scope="session")
def _flush_past_append_only_guards():
    """Transactional tests empty the database with `flush` afterwards; the append-only triggers refuse
    that on purpose, so the flush (and only the flush) runs with them lifted and then restored."""
    from django.core.management.commands import flush

    from accounts.db import append_only_guards_suspended

    original = flush.Command.handle

    def handle(self, **options):
        with append_only_guards_suspended():
            result = original(self, **options)
        _restore_migration_data()
        return result

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture(autouse=True, scope="session")
def _live_server_serves_no_media():
    """settings.MEDIA_URL is None: uploads are private and no URL serves them. Django's live test server
    builds a media handler from MEDIA_URL anyway (and fails on None); give that handler an address with a
    host, which makes it serve nothing at all. Settings stay untouched."""
    from django.test import testcases

    original = testcases._MediaFilesHandler.get_base_url
    testcases._MediaFilesHandler.get_base_url = lambda self: "https://media.invalid/"
    yield
    testcases._MediaFilesHandler.get_base_url = original


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Uploads go to a private temporary directory per test, never into the project."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def region_suzhou(db):
    return factories.region("320500", "苏州市")


@pytest.fixture
def region_nanjing(db):
    return factories.region("320100", "南京市")


@pytest.fixture
def region_nanchang(db):
    return factories.region("360100", "南昌市")


@pytest.fixture
def jiangsu_policy(db):
    """Jiangsu 2025: near relatives, province-wide, one relationship, spouse confirms (seeds 000/002)."""
    return factories.policy("320000")


@pytest.fixture
def institution(db, region_suzhou):
    return factories.institution(code="H32050001", region=region_suzhou)


@pytest.fixture
def pharmacy(db, region_suzhou):
    return factories.institution(code="P32050001", region=region_suzhou, kind="pharmacy", name="苏州老百姓大药房")


def _api(role, institution=None, name=None):
    client_obj, token = factories.api_client(role=role, institution=institution, name=name)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    api.client_obj = client_obj
    return api


@pytest.fixture
def channel_api(db):
    return _api("channel")


@pytest.fixture
def staff_api(db):
    return _api("staff")


@pytest.fixture
def institution_api(db, institution):
    return _api("institution", institution=institution)


@pytest.fixture
def pharmacy_api(db, pharmacy):
    return _api("institution", institution=pharmacy)


@pytest.fixture
def anonymous_api():
    return APIClient()
