"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright's sync API keeps an event loop in the test thread; the ORM calls the tests make to set up data
are ordinary blocking calls, so Django's async-safety guard is relaxed for this package only.
"""

import importlib
import os
import tempfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# The screenshots in docs/ are refreshed on purpose (UPDATE_SCREENSHOTS=1 scripts/test.sh tests/browser), not by
# every test run, so that running the suite leaves the working tree as it was.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "mutualaid-screenshots"
)
PASSWORD = "Passw0rd!2026"
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def staff_groups(transactional_db):
    """The staff groups of migration 0004, again: a transactional test's flush removes migration data."""
    groups = importlib.import_module("accounts.migrations.0004_staff_groups")
    views = [(app, f"view_{model}") for app, model in groups.READ_ALL]

    def perms(pairs):
        return [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in pairs]

    for name, extra in (
        (groups.COUNTER, groups.COUNTER_WRITES),
        (groups.SUPERVISOR, groups.SUPERVISOR_WRITES),
        (groups.AUDITOR, groups.AUDITOR_EXTRA),
    ):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(perms(views + extra))


@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def promise_pdf(tmp_path):
    path = tmp_path / "承诺书.pdf"
    path.write_bytes(PDF_BYTES)
    return path


def screenshot(page, name: str, **kwargs):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True, **kwargs)


def login(page, live_server, username: str, shot: str | None = None):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    if shot:
        screenshot(page, shot)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
