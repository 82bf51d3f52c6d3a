"""Django settings for urbangrid.

Everything a bureau changes is an environment variable; see docs/configuration.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("URBANGRID_DATA_DIR", Path.cwd() / "var")).resolve()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or "insecure-demo-key-change-me-in-production"
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "urbangrid.core",
    "urbangrid.geo",
    "urbangrid.catalog",
    "urbangrid.workflow",
    "urbangrid.cases",
    "urbangrid.open311",
    "urbangrid.portal",
    "urbangrid.web",
    "urbangrid.mobile",
    "urbangrid.demo",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "urbangrid.urls"
WSGI_APPLICATION = "urbangrid.wsgi.application"
ASGI_APPLICATION = "urbangrid.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Embedded default: SQLite in WAL mode under URBANGRID_DATA_DIR. Production: PostgreSQL 15+
# through DATABASE_URL=postgres://user:password@host:5432/name
DEFAULT_SQLITE = f"sqlite:///{DATA_DIR / 'urbangrid.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or DEFAULT_SQLITE,
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),  # persistent connections
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    # The workflow engine's statements use server-side parameters and are prepared after this
    # many runs on a connection (Django's own queries are never prepared). Empty: never (for a
    # connection pooler that cannot keep prepared statements, such as PgBouncer before 1.21).
    threshold = os.environ.get("PG_PREPARE_THRESHOLD", "5")
    DATABASES["default"]["OPTIONS"] = {"prepare_threshold": int(threshold) if threshold.strip() else None}
    # one test database per process, so that several test runs on one server do not collide
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", f"test_urbangrid_{os.getpid()}")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Sign-in: Django sessions, lock-out after repeated failures (django-axes) -------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "web/locked.html"
AXES_RESET_ON_SUCCESS = True

# --- Language and time ------------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))

# --- Background work (django-tasks, database backend) ----------------------------------
TASKS = {"default": {"BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.backend.DatabaseBackend")}}

# --- Domain configuration ---------------------------------------------------------------
#: Map tiles (Tianditu, an intranet tile server ...), e.g. "https://tiles.example/{z}/{x}/{y}.png".
#: Empty: maps show grids and cases on a plain background.
URBANGRID_TILE_URL = os.environ.get("URBANGRID_TILE_URL", "")
URBANGRID_TILE_ATTRIBUTION = os.environ.get("URBANGRID_TILE_ATTRIBUTION", "")

URBANGRID = {
    # GB/T 2260 code of the jurisdiction this installation serves (the demo district).
    "JURISDICTION_CODE": os.environ.get("URBANGRID_JURISDICTION", "330483"),
    # CJ/T 213 (14 digits, 2-digit sequence) or GB/T 30428.1 / DB11 (15 digits, 3-digit sequence).
    "GRID_CODE_LENGTH": int(os.environ.get("URBANGRID_GRID_CODE_LENGTH", "14")),
    # CJ/T 214-2007 (16 digits) or GB/T 47678.5-2026 (17 digits).
    "COMPONENT_ID_LENGTH": int(os.environ.get("URBANGRID_COMPONENT_ID_LENGTH", "16")),
    # Open311: a domain-style jurisdiction_id accepted besides the county code, and the request
    # header holding the client address behind a proxy (for rate limits), e.g. HTTP_X_REAL_IP.
    "OPEN311_JURISDICTION_ID": os.environ.get("URBANGRID_OPEN311_JURISDICTION_ID", ""),
    "CLIENT_ADDRESS_HEADER": os.environ.get("URBANGRID_CLIENT_ADDRESS_HEADER", ""),
    # A "dissatisfied" return visit reopens the case for re-check.
    "REOPEN_ON_DISSATISFIED": env_bool("URBANGRID_REOPEN_ON_DISSATISFIED", True),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

ADMIN_SITE_TITLE = _("urbangrid administration")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
