"""Settings from the environment: production mode passes `check --deploy` with no warnings."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ


def test_production_settings_pass_check_deploy_without_warnings():
    # A clean production environment: the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak in.
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_ENV": "production",
        "SECRET_KEY": "a-production-secret-that-is-long-enough-0123456789-abcdefghijklmnopqrstuvwxyz",
        "ALLOWED_HOSTS": "ybj.example.gov.cn",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"} | {"DJANGO_ENV": "production"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0


def test_uploads_are_not_served_from_a_public_url():
    assert not settings.MEDIA_URL
    from django.urls import Resolver404, resolve

    try:
        match = resolve("/media/private/authorizations/x.pdf")
    except Resolver404:
        match = None
    assert match is None


def test_openapi_schema_generates_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", os.devnull],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr


def _gunicorn_settings(**env) -> dict:
    """What gunicorn itself reads from config/gunicorn.conf.py under `env` (its --print-config)."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    result = subprocess.run(
        [gunicorn, "--print-config", "-c", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, check=True,
    )
    pairs = (line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def test_gunicorn_runs_sync_workers_unless_threads_are_asked_for():
    # One request per process at a time, each accepted only when the process is free (config/gunicorn.conf.py).
    single = _gunicorn_settings(WEB_CONCURRENCY="5", GUNICORN_THREADS="1", GUNICORN_TIMEOUT="90")
    assert (single["worker_class"], single["workers"], single["threads"], single["timeout"]) == ("sync", "5", "1", "90")
    threaded = _gunicorn_settings(GUNICORN_THREADS="4")
    assert (threaded["worker_class"], threaded["threads"]) == ("gthread", "4")


def test_no_log_line_carries_an_id_number_with_debug_on():
    """Django's own console handler (DEBUG only) printed django.request lines ("Not Found: /…/<ID number>") without
    the masking filter, beside the masked copy; every handler must mask."""
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('django.request').warning('Not Found: %s', '/api/v1/persons/320102199001011232')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"}
    env.pop("DJANGO_ENV", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True)
    assert "320102********1232" in result.stderr
    assert "320102199001011232" not in result.stderr


def test_staff_sessions_last_a_working_day_and_end_with_the_browser():
    from django.conf import settings

    assert settings.SESSION_COOKIE_AGE == 9 * 3600 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
