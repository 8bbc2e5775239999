"""Configuration, read from the environment (12-factor)."""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"


class ConfigError(RuntimeError):
    """A required setting is missing or invalid; the message names the variable."""


def database_url_from_env(environ=os.environ):
    url = environ.get("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'rostersync.sqlite3'}"
    # Heroku still hands out the scheme SQLAlchemy dropped in 1.4.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def env_flag(name, default=False, environ=os.environ):
    value = environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name, default, environ=os.environ):
    value = environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}.") from None


def env_float(name, default, environ=os.environ):
    value = environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number (seconds may have a decimal point), "
                          f"not {value!r}.") from None


def public_url_from_env(environ=os.environ, default_host="http://127.0.0.1"):
    """PUBLIC_URL, or (outside production) this machine at the PORT the web process listens on,
    so links in emails reach the app `make run` started whatever its PORT."""
    return environ.get("PUBLIC_URL") or f"{default_host}:{environ.get('PORT') or 5000}"


def env_list(name, environ=os.environ):
    return [item.strip() for item in (environ.get(name) or "").split(",") if item.strip()]


def engine_options(config):
    """SQLAlchemy pool settings: dropped connections are detected and replaced.

    Each process holds its own pool. A gunicorn worker serves GUNICORN_THREADS requests at once,
    so its pool defaults to that many connections; an RQ work horse runs one job at a time.
    """
    uri = config["SQLALCHEMY_DATABASE_URI"]
    options = {"pool_pre_ping": True, "pool_recycle": config["DB_POOL_RECYCLE_SECONDS"]}
    if uri.startswith("postgresql"):
        options.update(pool_size=config["DB_POOL_SIZE"], max_overflow=config["DB_MAX_OVERFLOW"],
                       pool_timeout=config["DB_POOL_TIMEOUT_SECONDS"])
        options["connect_args"] = {
            "connect_timeout": config["DB_CONNECT_TIMEOUT_SECONDS"],
            "application_name": config["DB_APPLICATION_NAME"],
            # Keepalives notice a peer that vanished without closing (a failover, a NAT drop).
            "keepalives": 1, "keepalives_idle": 60, "keepalives_interval": 10,
            "keepalives_count": 3,
        }
    return options


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-not-secret"
    # Old SECRET_KEYs still accepted for signed sessions while rotating (Flask 3.1).
    SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
    SQLALCHEMY_DATABASE_URI = database_url_from_env()
    DB_POOL_SIZE = env_int("DB_POOL_SIZE", env_int("GUNICORN_THREADS", 4))
    DB_MAX_OVERFLOW = env_int("DB_MAX_OVERFLOW", 2)
    DB_WORKER_POOL_SIZE = env_int("DB_WORKER_POOL_SIZE", 2)
    DB_POOL_RECYCLE_SECONDS = env_int("DB_POOL_RECYCLE_SECONDS", 300)
    DB_POOL_TIMEOUT_SECONDS = env_int("DB_POOL_TIMEOUT_SECONDS", 10)
    DB_CONNECT_TIMEOUT_SECONDS = env_int("DB_CONNECT_TIMEOUT_SECONDS", 10)
    DB_APPLICATION_NAME = os.environ.get("DB_APPLICATION_NAME", "rostersync")

    REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    # rediss:// only. Verify against REDIS_TLS_CA_CERT (a PEM file path or the PEM text itself)
    # when the provider publishes its CA; REDIS_TLS_VERIFY=false only when it does not.
    REDIS_TLS_VERIFY = env_flag("REDIS_TLS_VERIFY", default=True)
    REDIS_TLS_CA_CERT = os.environ.get("REDIS_TLS_CA_CERT", "")
    REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "rostersync:")
    QUEUE_QUICK = os.environ.get("QUEUE_QUICK", "rostersync-quick")
    QUEUE_SYNC = os.environ.get("QUEUE_SYNC", "rostersync-sync")
    # A 50,000-member sync pages ~50 Graph requests and writes 50,000 rows; with throttling
    # back-offs that is minutes, so two hours leaves a wide margin (RQ's default is 180 s).
    JOB_TIMEOUT_SYNC_SECONDS = env_int("JOB_TIMEOUT_SYNC_SECONDS",
                                       env_int("SYNC_JOB_TIMEOUT_SECONDS", 2 * 3600))
    JOB_TIMEOUT_QUICK_SECONDS = env_int("JOB_TIMEOUT_QUICK_SECONDS", 300)
    JOB_RESULT_TTL_SECONDS = env_int("JOB_RESULT_TTL_SECONDS", 24 * 3600)
    JOB_FAILURE_TTL_SECONDS = env_int("JOB_FAILURE_TTL_SECONDS", 7 * 24 * 3600)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE", default=False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    PROXY_FIX_X_FOR = env_int("PROXY_FIX_X_FOR", 0)

    PASSWORD_HASH_METHOD = "scrypt"

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
    SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
    SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0)

    LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
    LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 20)
    LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900)
    # Forgot your password: emails asked for per address typed, and per network address, in
    # the window (counted like failed sign-ins, in Redis).
    PASSWORD_RESETS_PER_ACCOUNT = env_int("PASSWORD_RESETS_PER_ACCOUNT", 3)
    PASSWORD_RESETS_PER_ADDRESS = env_int("PASSWORD_RESETS_PER_ADDRESS", 20)
    PASSWORD_RESET_WINDOW_SECONDS = env_int("PASSWORD_RESET_WINDOW_SECONDS", 3600)
    # A session ends after this long without a request, and this long after signing in.
    SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 12 * 60)
    SESSION_MAX_DAYS = env_int("SESSION_MAX_DAYS", 14)

    MICROSOFT_CLIENT_ID = os.environ.get("MICROSOFT_CLIENT_ID", "")
    MICROSOFT_CLIENT_SECRET = os.environ.get("MICROSOFT_CLIENT_SECRET", "")
    MICROSOFT_CLIENT_SECRET_EXPIRES = os.environ.get("MICROSOFT_CLIENT_SECRET_EXPIRES", "")
    MICROSOFT_CLIENT_SECRET_WARN_DAYS = env_int("MICROSOFT_CLIENT_SECRET_WARN_DAYS", 30)
    MICROSOFT_AUTHORITY = os.environ.get(
        "MICROSOFT_AUTHORITY", "https://login.microsoftonline.com/organizations")
    MICROSOFT_GRAPH_URL = os.environ.get("MICROSOFT_GRAPH_URL", "https://graph.microsoft.com/v1.0")
    # The Directory (tenant) ID that owns the app registration: app-only token requests (the
    # operator's `microsoft check` and the probe that ends a credentials pause) need a tenant.
    MICROSOFT_HOME_TENANT_ID = os.environ.get("MICROSOFT_HOME_TENANT_ID", "").strip()
    TOKEN_ENCRYPTION_KEY = os.environ.get("TOKEN_ENCRYPTION_KEY", "")
    HTTP_TIMEOUT_SECONDS = env_float("HTTP_TIMEOUT_SECONDS", 30.0)
    # Graph retries: a sync gives up after this many seconds of waiting out 429/503/504 in all.
    GRAPH_MAX_TOTAL_WAIT_SECONDS = env_float("GRAPH_MAX_TOTAL_WAIT_SECONDS", 300.0)
    GRAPH_MAX_ATTEMPTS = env_int("GRAPH_MAX_ATTEMPTS", 8)
    # Back-off when Microsoft sends no Retry-After: base, 2x base, 4x base, ... plus jitter.
    GRAPH_BASE_BACKOFF_SECONDS = env_float("GRAPH_BASE_BACKOFF_SECONDS", 1.0)
    # ... doubling each time, but never more than this per wait (Retry-After is honoured as sent).
    GRAPH_MAX_BACKOFF_SECONDS = env_float("GRAPH_MAX_BACKOFF_SECONDS", 60.0)
    # A running sync's worker refreshes a Redis key this often (/3); a missing key = worker gone.
    SYNC_LIVENESS_SECONDS = env_float("SYNC_LIVENESS_SECONDS", 30.0)
    # Audit log entries older than this are removed by the hourly erasure job (two years).
    AUDIT_RETENTION_DAYS = env_int("AUDIT_RETENTION_DAYS", 730)
    SUPPORT_URL = os.environ.get("SUPPORT_URL", "mailto:support@example.com")
    # Dates and times are shown in this zone (an IANA name), with the zone named.
    DEFAULT_TIME_ZONE = os.environ.get("DEFAULT_TIME_ZONE") or "Europe/London"
    # Email (Flask's MAIL_* names; sent with smtplib). No MAIL_SERVER: mails go to the log.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = env_flag("MAIL_USE_TLS")
    MAIL_USE_SSL = env_flag("MAIL_USE_SSL")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER",
                                         "rostersync <no-reply@rostersync.invalid>")
    MAIL_TIMEOUT_SECONDS = env_int("MAIL_TIMEOUT_SECONDS", 20)
    OPERATIONS_EMAIL = env_list("OPERATIONS_EMAIL")
    # The address people use to reach the app; links in emails start with it.
    PUBLIC_URL = public_url_from_env()
    # How often the clock process enqueues the automatic-sync tick.
    CLOCK_INTERVAL_SECONDS = env_int("CLOCK_INTERVAL_SECONDS", 60)
    DEMO_MODE = env_flag("DEMO_MODE", default=False)

    @classmethod
    def validate(cls):
        """Called at start-up; production adds its own checks (secrets) to these."""
        check_number_ranges(cls)


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE", default=True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "")

    @classmethod
    def validate(cls):
        check_number_ranges(cls)
        missing = [name for name in ("SECRET_KEY", "TOKEN_ENCRYPTION_KEY")
                   if not getattr(cls, name)]
        if missing:
            raise ConfigError(
                "Missing required environment variable(s): " + ", ".join(missing)
                + ". Set them before starting rostersync in production "
                "(generate them with `flask --app wsgi keys generate`).")
        if cls.MAIL_SERVER and not cls.PUBLIC_URL:
            raise ConfigError("PUBLIC_URL is required when MAIL_SERVER is set: links in emails "
                              "start with it (for example https://rostersync.example.org).")
        if cls.MAIL_USE_TLS and cls.MAIL_USE_SSL:
            raise ConfigError("Set MAIL_USE_TLS (STARTTLS, usually port 587) or MAIL_USE_SSL "
                              "(usually port 465), not both.")


def check_number_ranges(config):
    """Numbers in range: session lengths (a minute to 30 days idle, a day to a year in all),
    the reset limits, and the clock's tick (0 or less once left the clock running with no tick
    registered, or queueing ticks without pause)."""
    limits = (("SESSION_IDLE_MINUTES", 1, 30 * 24 * 60), ("SESSION_MAX_DAYS", 1, 366),
              ("PASSWORD_RESETS_PER_ACCOUNT", 1, 1000), ("PASSWORD_RESETS_PER_ADDRESS", 1, 100000),
              ("PASSWORD_RESET_WINDOW_SECONDS", 60, 7 * 24 * 3600),
              ("CLOCK_INTERVAL_SECONDS", 1, 3600))
    for name, lowest, highest in limits:
        value = getattr(config, name)
        if not lowest <= value <= highest:
            raise ConfigError(f"{name} must be between {lowest} and {highest}, not {value}.")


def config_from_env(environ=os.environ):
    name = (environ.get("ROSTERSYNC_ENV") or environ.get("FLASK_ENV") or "development").lower()
    return ProductionConfig if name == "production" else Config
