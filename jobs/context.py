"""Gives a job an application context, whether or not the worker already pushed one."""
import contextlib
import functools

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


def with_app_context(job):
    @functools.wraps(job)
    def wrapped(*args, **kwargs):
        context = contextlib.nullcontext() if has_app_context() else get_app().app_context()
        with context:
            return job(*args, **kwargs)
    return wrapped
