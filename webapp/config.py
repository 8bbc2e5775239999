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


class Config:
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-not-secret"
    SQLALCHEMY_DATABASE_URI = database_url_from_env()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_recycle": 300}
    REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    REDIS_TLS_VERIFY = env_flag("REDIS_TLS_VERIFY", default=True)
    REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "rostersync:")
    QUEUE_QUICK = os.environ.get("QUEUE_QUICK", "rostersync-quick")
    QUEUE_SYNC = os.environ.get("QUEUE_SYNC", "rostersync-sync")

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE", default=False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    PROXY_FIX_X_FOR = int(os.environ.get("PROXY_FIX_X_FOR", "0"))

    PASSWORD_HASH_METHOD = "scrypt"
    LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5"))
    LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "20"))
    LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900"))

    MICROSOFT_CLIENT_ID = os.environ.get("MICROSOFT_CLIENT_ID", "")
    MICROSOFT_CLIENT_SECRET = os.environ.get("MICROSOFT_CLIENT_SECRET", "")
    MICROSOFT_AUTHORITY = os.environ.get(
        "MICROSOFT_AUTHORITY", "https://login.microsoftonline.com/organizations")
    MICROSOFT_GRAPH_URL = os.environ.get("MICROSOFT_GRAPH_URL", "https://graph.microsoft.com/v1.0")
    TOKEN_ENCRYPTION_KEY = os.environ.get("TOKEN_ENCRYPTION_KEY", "")
    HTTP_TIMEOUT_SECONDS = float(os.environ.get("HTTP_TIMEOUT_SECONDS", "30"))
    SUPPORT_URL = os.environ.get("SUPPORT_URL", "mailto:support@example.com")
    DEMO_MODE = env_flag("DEMO_MODE", default=False)

    @classmethod
    def validate(cls):
        """Called at start-up; production overrides it to insist on secrets."""


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE", default=True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    @classmethod
    def validate(cls):
        missing = [name for name in ("SECRET_KEY",) if not getattr(cls, name)]
        if missing:
            raise ConfigError(
                "Missing required environment variable(s): " + ", ".join(missing)
                + ". Set them before starting rostersync in production "
                "(generate one with `flask --app wsgi keys generate`).")


def config_from_env(environ=os.environ):
    name = (environ.get("ROSTERSYNC_ENV") or environ.get("FLASK_ENV") or "development").lower()
    return ProductionConfig if name == "production" else Config
