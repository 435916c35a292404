"""Settings for the family mutual-aid back-office, driven by the environment.

One file (style.md #10): development defaults are safe, production is switched on with
``DJANGO_ENV=production`` and then refuses to start without a real SECRET_KEY.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PRODUCTION = os.environ.get("DJANGO_ENV", "development") == "production"

DEBUG = env_bool("DEBUG", not PRODUCTION)
if PRODUCTION:
    SECRET_KEY = os.environ["SECRET_KEY"]
else:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me-0123456789abcdefghijklmnop")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "import_export",
    "accounts",
    "bindings",
    "settlements",
]

# Sessions, language negotiation, the Django user and messages serve the admin and the site; the API under
# /api/ skips them (config/middleware.py: token-authenticated JSON, always in Chinese).
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.SessionMiddleware",
    "config.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.middleware.AuthenticationMiddleware",
    "config.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database -------------------------------------------------------------------------------
# Default: an embedded SQLite file. Production: PostgreSQL through DATABASE_URL (psycopg 3).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        # A health check costs a `SELECT 1` per request on a persistent connection; off where the database
        # is local and reliable (the settlement benchmark), on by default.
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short OLTP queries: PostgreSQL's JIT spent more compiling the expenditure totals than running them
    # (docs/benchmarks.md, "Settlements"). DATABASE_URL's own options, if any, come last and win.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = ("-c jit=off " + options.get("options", "")).strip()
    # Server-side binding with prepared statements: PostgreSQL CPU per settlement 2.05 -> 1.19 ms
    # (docs/benchmarks.md, "Settlements"). Off by default: it must not be used behind PgBouncer in transaction mode.
    if env_bool("DB_SERVER_SIDE_BINDING", False):
        options.setdefault("server_side_binding", True)
        options.setdefault("prepare_threshold", 1)
# The settlement engine's fixed statements and the API token look-up as prepared statements on PostgreSQL
# (accounts.db.prepared_cursor). Off only behind a pooler that cannot keep them (PgBouncer before 1.21, or without
# max_prepared_statements, in transaction mode).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DB_PREPARED_STATEMENTS:
    # psycopg prepares nothing while prepare_threshold is None (Django's default); with a threshold no statement
    # reaches, it prepares exactly those it is asked to (`prepare=True`, what prepared_cursor does).
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several clerks and API clients at once without "database is locked": WAL lets readers
    # run beside the writer, the busy timeout makes a writer wait instead of failing, and
    # IMMEDIATE transactions take the write lock at BEGIN so two writers never deadlock
    # upgrading a read lock.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The covering index for expenditure totals (accounts.LedgerEntry) has INCLUDE columns that only
# PostgreSQL uses; on SQLite it is a plain index, which is what we want there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language and time ------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Uploaded promise letters and proof are personal data: MEDIA_ROOT is never served under a
# public URL (there is no MEDIA_URL route); staff read them through a view that checks the
# permission and logs the access.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = None
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10000

# --- Admin and import-export ------------------------------------------------------------------
LOGIN_URL = "admin:login"
IMPORT_EXPORT_SKIP_ADMIN_LOG = True
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.api.auth.ApiClientTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.api.permissions.IsApiClient"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "accounts.api.pagination.StandardPagination",
    "EXCEPTION_HANDLER": "accounts.api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON whatever the Content-Type (accounts/api/parsers.py); the schema names application/json only.
    "DEFAULT_PARSER_CLASSES": ["accounts.api.parsers.JSONParser", "accounts.api.parsers.AnyContentTypeJSONParser"],
    "COERCE_DECIMAL_TO_STRING": True,
    "DATETIME_FORMAT": "iso-8601",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "职工医保个人账户家庭共济 API",
    "DESCRIPTION": "Contract v1 (docs/api.md): persons, authorizations, eligibility, settlements.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PARSER_WHITELIST": ["rest_framework.parsers.JSONParser"],
    # Two different "channel" choice sets: how a settlement was made, and through which online channel an
    # authorization was created or answered.
    "ENUM_NAME_OVERRIDES": {
        "SettlementChannelEnum": "settlements.models.SettlementChannel",
        "AuthorizationChannelEnum": "bindings.api.serializers.API_CHANNELS",
    },
}

# --- Logging: never log ID numbers (accounts.logging.MaskIdNumbersFilter) -----------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_ids": {"()": "accounts.logging.MaskIdNumbersFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["mask_ids"], "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default config gives the "django" logger its own console handler (DEBUG only) without our filter:
        # replaced by ours, so that django.request's "Not Found: /…" lines are masked too.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # runserver's access log carries query strings (an admin search by ID number): masked too.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# --- Security (production passes `manage.py check --deploy`) ----------------------------------
# How many reverse proxies of our own stand in front of gunicorn (accounts.client_address): the access log of
# scanned documents records the client's address, not the proxy's.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
SESSION_COOKIE_HTTPONLY = True
# Counter terminals show personal data: a staff session lasts a working day (SESSION_HOURS, default 9), not Django's
# two weeks, and ends when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_HOURS", "9")) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
