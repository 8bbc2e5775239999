"""Gives a job an application context, whether or not the worker already pushed one."""
import contextlib
import functools
import os

from flask import has_app_context

_app = None


def worker_config():
    """A work horse runs one job at a time: a small pool, and its own name in pg_stat_activity."""
    from webapp.config import config_from_env
    config = config_from_env()
    return type("WorkerConfig", (config,), {
        "DB_POOL_SIZE": config.DB_WORKER_POOL_SIZE, "DB_MAX_OVERFLOW": 1,
        "DB_APPLICATION_NAME": f"{config.DB_APPLICATION_NAME}-worker"})


def get_app():
    global _app
    if _app is None:
        from webapp import create_app
        _app = create_app(worker_config())
    return _app


@contextlib.contextmanager
def process_app(process_name):
    """A long-running process's start: logging, the app's context, and a reachable Redis, or
    SystemExit saying why it cannot start. Yields the log level for RQ's own logging."""
    from webapp.config import ConfigError
    from webapp.logs import configure_logging
    from webapp.redis_conn import check_redis
    level = os.environ.get("LOG_LEVEL", "INFO").upper()
    configure_logging(level)
    try:
        app = get_app()  # the settings' checks (a missing secret, a number out of range)
        with app.app_context():
            check_redis(app)
    except ConfigError as error:
        raise SystemExit(f"rostersync {process_name} cannot start: {error}") from None
    with app.app_context():
        yield level


def with_app_context(job):
    @functools.wraps(job)
    def wrapped(*args, **kwargs):
        context = contextlib.nullcontext() if has_app_context() else get_app().app_context()
        with context:
            return job(*args, **kwargs)
    return wrapped
