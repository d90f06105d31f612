"""WaterMIS settings.

Everything that differs between machines comes from the environment:

- ``DATABASE_URL``: the database (default: SQLite file ``var/watermis.sqlite3``).
- ``WATERMIS_SECRET_KEY``: the signing key (default: generated once into ``DATA_DIR/secret_key``).
- ``WATERMIS_DEBUG``: ``1`` for development (the demo command sets it).
- ``WATERMIS_ALLOWED_HOSTS``: comma-separated host names.
- ``WATERMIS_DATA_DIR``: where the SQLite file and stored files live (default ``var/``).
- ``WATERMIS_PDF_FONT``: the font file printed documents use (default: found among the
  installed Chinese fonts, see ``watermis.documents.fonts``).
- ``WATERMIS_EINVOICE_PROVIDER``: the e-invoice provider class (default: the local one).
"""

import os
import secrets
from pathlib import Path

import dj_database_url

SRC_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = SRC_DIR.parent
DATA_DIR = Path(os.environ.get("WATERMIS_DATA_DIR", BASE_DIR / "var"))

VERSION = "0.1.0"

DEBUG = os.environ.get("WATERMIS_DEBUG", "0") == "1"
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key():
    """The environment's key, or one generated once per installation and kept in DATA_DIR."""
    key = os.environ.get("WATERMIS_SECRET_KEY", "")
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("WATERMIS_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "django_tables2",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "watermis.core",
    "watermis.system",
    "watermis.org",
    "watermis.tariffs",
    "watermis.customers",
    "watermis.readings",
    "watermis.billing",
    "watermis.documents",
    "watermis.invoices",
    "watermis.payments",
    "watermis.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "watermis.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "watermis.core.middleware.AuditContextMiddleware",
    "watermis.core.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "watermis.urls"
WSGI_APPLICATION = "watermis.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [SRC_DIR / "watermis" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "watermis.context_processors.layout",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'watermis.sqlite3'}",
        conn_max_age=int(os.environ.get("WATERMIS_DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while a writer posts; IMMEDIATE makes a write
    # transaction take the write lock at BEGIN, so two writers queue instead
    # of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Reports and lists run large one-off queries; PostgreSQL's JIT spends up to a
    # second compiling each of them for no gain at our sizes.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work (bill runs, book by book) goes through Django's tasks framework
# into the database; `manage.py db_worker` runs it (start as many as there are cores).
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

AUTH_USER_MODEL = "org.Operator"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "watermis.org.validators.MixedCharacterValidator"},
]

# Sessions end after 30 idle minutes (every request renews the cookie) and
# when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("WATERMIS_SESSION_IDLE_SECONDS", "1800"))
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = os.environ.get("WATERMIS_INSECURE_COOKIES") != "1"
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["watermis.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Front-end packages come from the npm registry at set-up (package-lock.json);
# only the files the pages use are exposed, under vendor/.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/swagger-ui", NODE_MODULES / "swagger-ui-dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or os.environ.get("WATERMIS_TESTING") == "1"
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

DJANGO_TABLES2_TEMPLATE = "core/table.html"

# Printed documents (PDF) need a font with the Chinese characters: a .ttf, .otf or .ttc
# file; empty means the first one found (scripts/setup installs fonts-noto-cjk).
WATERMIS_PDF_FONT = os.environ.get("WATERMIS_PDF_FONT", "")

# Electronic invoices: the provider class (dotted path) and its keyword arguments
# (docs/invoices.md). The local provider numbers and draws e-invoices itself (demo, tests).
WATERMIS_EINVOICE_PROVIDER = os.environ.get(
    "WATERMIS_EINVOICE_PROVIDER", "watermis.invoices.einvoice.LocalProvider"
)
WATERMIS_EINVOICE_OPTIONS = {}

# Query pages count, sum and sort at most this many rows; an Excel export of a list writes
# at most WATERMIS_EXPORT_CAP (docs/queries.md).
WATERMIS_ROW_CAP = int(os.environ.get("WATERMIS_ROW_CAP", "10000"))
WATERMIS_EXPORT_CAP = int(os.environ.get("WATERMIS_EXPORT_CAP", "1000000"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["watermis.core.permissions.ScopedModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WaterMIS API",
    "DESCRIPTION": "Business management information system of a water supply company",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["watermis.core.permissions.CanReadApiSchema"],
    # Swagger UI comes from the npm registry at set-up, never from a CDN.
    "SWAGGER_UI_DIST": "/static/vendor/swagger-ui",
    "SWAGGER_UI_FAVICON_HREF": "/static/vendor/swagger-ui/favicon-32x32.png",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WATERMIS_LOG_LEVEL", "WARNING")},
}

if os.environ.get("WATERMIS_TESTING") == "1":
    # Hashing strength is not under test; speed is.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DJANGO_TABLES2_TABLE_ATTRS = {
    "class": "table table-sm table-hover table-striped align-middle",
    "thead": {"class": "table-light"},
}
