"""config/middleware.py: the API skips the site's session, language, user and message middleware; the admin keeps
them."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def token():
    institution = factories.institution(code="HMW001", region=factories.region("320500", "苏州市"))
    _, token = factories.api_client(role="institution", institution=institution)
    return token


def test_api_messages_are_chinese_whatever_the_accept_language(token):
    client = Client()
    # A page in English first, served by the same thread: the API must not answer in the page's language.
    page = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "Log in" in page.content.decode()
    response = client.post(
        "/api/v1/settlements",
        {"category": "medical"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "该字段是必填项" in text and "This field is required" not in text, text


def test_api_responses_set_no_session_or_language_headers(token):
    response = Client().get("/api/v1/persons/NOBODY", HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert not response.cookies
    assert "Content-Language" not in response.headers
    assert "Accept-Language" not in response.headers.get("Vary", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"  # the security middleware still runs


def test_the_admin_keeps_sessions_language_and_csrf():
    english = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.headers["Content-Language"] == "en" and "Log in" in english.content.decode()
    assert "csrftoken" in english.cookies
    chinese = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.headers["Content-Language"] == "zh-hans" and "登录" in chinese.content.decode()
    user = get_user_model().objects.create_superuser("clerk-mw", password="pw-123456")  # noqa: S106
    client = Client()
    client.force_login(user)
    assert client.get("/admin/").status_code == 200  # the session carries the login
