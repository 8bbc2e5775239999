"""Gives a job an application context, whether or not the worker already pushed one."""
import contextlib
import functools

from flask import has_app_context

_app = None


def get_app():
    global _app
    if _app is None:
        from webapp import create_app
        _app = create_app()
    return _app


def with_app_context(job):
    @functools.wraps(job)
    def wrapped(*args, **kwargs):
        context = contextlib.nullcontext() if has_app_context() else get_app().app_context()
        with context:
            return job(*args, **kwargs)
    return wrapped
