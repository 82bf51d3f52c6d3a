"""Django settings for urbangrid.

Everything a bureau changes is an environment variable; see docs/configuration.md.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("URBANGRID_DATA_DIR", Path.cwd() / "var")).resolve()


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


DEBUG = env_bool("DEBUG", False)

# --- Secret key -------------------------------------------------------------------------
# No default: a server must not start with a key everybody knows. The demo (`urbangrid demo`,
# or URBANGRID_DEMO=1) and the test suite (pytest sets PYTEST_VERSION while it runs) opt in to
# the public demo key; `urbangrid check --deploy` flags that key as insecure.
DEMO_SECRET_KEY = "insecure-demo-key-change-me-in-production"
URBANGRID_DEMO = env_bool("URBANGRID_DEMO", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    if not (URBANGRID_DEMO or os.environ.get("PYTEST_VERSION")):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random value, e.g. "
            "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))'), and keep it "
            "the same across restarts. To run the demo with a public key instead, set URBANGRID_DEMO=1 "
            "or use `urbangrid demo`. See docs/configuration.md."
        )
    SECRET_KEY = DEMO_SECRET_KEY
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

# --- HTTPS (behind a TLS proxy) -----------------------------------------------------------
# URBANGRID_HTTPS=true turns on what a site served only over HTTPS needs: redirect to https,
# secure cookies, HSTS for a year and `upgrade-insecure-requests`; each has its own variable.
URBANGRID_HTTPS = env_bool("URBANGRID_HTTPS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", URBANGRID_HTTPS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", URBANGRID_HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", URBANGRID_HTTPS)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS") or (31_536_000 if URBANGRID_HTTPS else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)


def proxy_ssl_header(value: str) -> tuple[str, str] | None:
    """`X-Forwarded-Proto`, `X-Forwarded-Proto: https` or `HTTP_X_FORWARDED_PROTO=https`
    → ("HTTP_X_FORWARDED_PROTO", "https"); empty → None."""
    value = value.strip()
    if not value:
        return None
    for sep in (":", "=", ","):
        if sep in value:
            name, expected = (p.strip() for p in value.split(sep, 1))
            break
    else:
        name, expected = value, "https"
    name = name.upper().replace("-", "_")
    if not name.startswith("HTTP_"):
        name = "HTTP_" + name
    return name, expected or "https"


#: Trust this header, set by the TLS proxy, to say a request came over https. Only set it when
#: the proxy always sets or overwrites the header.
SECURE_PROXY_SSL_HEADER = proxy_ssl_header(os.environ.get("SECURE_PROXY_SSL_HEADER", ""))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "urbangrid.core.apps_i18n.TasksDatabaseConfig",  # django_tasks_db, with translated names
    "urbangrid.core",
    "urbangrid.geo",
    "urbangrid.catalog",
    "urbangrid.workflow",
    "urbangrid.cases",
    "urbangrid.notify",
    "urbangrid.evaluation",
    "urbangrid.dashboard",
    "urbangrid.open311",
    "urbangrid.portal",
    "urbangrid.web",
    "urbangrid.mobile",
    "urbangrid.demo",
    "urbangrid.core.apps_i18n.AxesConfig",  # axes, with translated names
    "csp",
    "ninja",  # the API docs page from the packaged Swagger UI, not from a CDN
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "urbangrid.core.middleware.RequestHygieneMiddleware",
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
# ... and per address across usernames, with a higher limit (core.security)
AXES_HANDLER = "urbangrid.core.security.AddressLimitedAxesHandler"
URBANGRID_ADDRESS_FAILURE_LIMIT = int(os.environ.get("URBANGRID_ADDRESS_FAILURE_LIMIT", "20"))
AXES_CLIENT_IP_CALLABLE = "urbangrid.core.security.client_address"  # honours URBANGRID_CLIENT_ADDRESS_HEADER
AXES_LOCKOUT_TEMPLATE = "web/locked.html"
AXES_RESET_ON_SUCCESS = True
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "api_key", "key", "token", "access_token"]

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
#: The tiles' coordinate system: WGS84 (also CGCS2000: Tianditu, OpenStreetMap) or GCJ02 (AMap,
#: Tencent and most intranet copies of them). With GCJ02 the maps shift our WGS-84 overlays onto
#: the tiles (web/static/web/map.js; web.shared.casepage.tile_settings gives the pages WGS84 or
#: GCJ02). Unknown values are refused at start-up (the spellings geo.crs.normalize_crs accepts;
#: settings cannot import it: it loads pyproj and translations).
URBANGRID_TILE_CRS = (
    os.environ.get("URBANGRID_TILE_CRS", "WGS84").strip().upper().replace("-", "").replace("_", "").replace(":", "")
    or "WGS84"
)
URBANGRID_TILE_CRS = {"EPSG4326": "WGS84", "EPSG4490": "CGCS2000"}.get(URBANGRID_TILE_CRS, URBANGRID_TILE_CRS)
if URBANGRID_TILE_CRS not in ("WGS84", "CGCS2000", "GCJ02"):
    raise ImproperlyConfigured(
        f"urbangrid: URBANGRID_TILE_CRS={os.environ.get('URBANGRID_TILE_CRS')!r} is not WGS84, CGCS2000 or GCJ02."
    )


def tile_source(url: str) -> str | None:
    """The CSP source of a tile URL template: "https://t{s}.tianditu.gov.cn/..." →
    "https://*.tianditu.gov.cn"; None for a same-origin (relative) URL."""
    parts = urlsplit(url.strip())
    if not parts.netloc:
        return None
    host, _, port = parts.netloc.rpartition("@")[2].partition(":")
    labels = host.split(".")
    if any("{" in label for label in labels[1:]):
        return f"{parts.scheme}:" if parts.scheme else None  # a placeholder CSP cannot express
    if "{" in labels[0]:
        labels[0] = "*"
    source = ".".join(labels) + (f":{port}" if port and "{" not in port else "")
    return f"{parts.scheme}://{source}" if parts.scheme else source


# --- Content-Security-Policy (django-csp) ------------------------------------------------
# Every script and style is a static file (vendored, no CDN), so the policy is strict: no
# inline script or style at all. Images may also come from the tile server and
# URBANGRID_CSP_IMG_SRC; URBANGRID_CSP_REPORT_ONLY=true only reports violations (to
# URBANGRID_CSP_REPORT_URI if set) instead of blocking.
_img_src = [SELF, "data:", "blob:"]
for _source in [tile_source(URBANGRID_TILE_URL), *env_list("URBANGRID_CSP_IMG_SRC")]:
    if _source and _source not in _img_src:
        _img_src.append(_source)
_csp_directives: dict[str, object] = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    "img-src": _img_src,
    "font-src": [SELF],
    "connect-src": [SELF],
    "worker-src": [SELF],
    "manifest-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}
if SECURE_SSL_REDIRECT:
    _csp_directives["upgrade-insecure-requests"] = True
if os.environ.get("URBANGRID_CSP_REPORT_URI"):
    _csp_directives["report-uri"] = os.environ["URBANGRID_CSP_REPORT_URI"]
if env_bool("URBANGRID_CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _csp_directives}
else:
    CONTENT_SECURITY_POLICY = {"DIRECTIVES": _csp_directives}

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
    # Extensions longer than this many (working or natural) hours need a leader's approval.
    "EXTENSION_LEADER_ABOVE_HOURS": float(os.environ.get("URBANGRID_EXTENSION_LEADER_ABOVE_HOURS", "24")),
}

# Dashboards: their answers are cached this many seconds (the big screen at most 10; 0: off), and
# the evaluation they show is recomputed when older than URBANGRID_EVALUATION_MAX_AGE seconds
# (0: computed on every request); `urbangrid worker` refreshes this month's every
# URBANGRID_EVALUATION_REFRESH_SECONDS (read by the worker).
# models.W040: the cohort counts' covering index carries its columns as INCLUDE columns for
# PostgreSQL's index-only scans; SQLite has no INCLUDE and builds an index on (dim, day) alone.
# evaluation/models.py, CohortCount.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

URBANGRID_DASHBOARD_CACHE_SECONDS = int(os.environ.get("URBANGRID_DASHBOARD_CACHE_SECONDS", "30"))
URBANGRID_EVALUATION_MAX_AGE = int(os.environ.get("URBANGRID_EVALUATION_MAX_AGE", "600"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # API keys and tokens sent in a query string never reach a log (core.redact)
    "filters": {"redact_secrets": {"()": "urbangrid.core.redact.RedactSecretsFilter"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
        "django.server": {
            "level": "INFO",
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
    },
    "loggers": {"django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

ADMIN_SITE_TITLE = _("urbangrid administration")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
