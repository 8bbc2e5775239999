"""Shared fixtures: app, client, db, and signed-in helpers; every test gets a clean database.

Tests that take `app` run once on SQLite and once on PostgreSQL. Mark a test (or module) with
`@pytest.mark.backends("postgresql")` to run it on fewer backends.

Fixtures used across folders are registered here once: the Microsoft simulator (`simulator`,
`microsoft`) and the demo trust (`oak`, `oak_client`) from tests/microsoft_flow.py, and a
private redis-server (`private_redis`). A folder's own fixtures live in its conftest.py
(tests/sync: `school`; tests/faults: a school with a leaver; tests/browser: Chromium).
"""
import contextvars
import re
import uuid

import pytest
from flask import has_app_context
from flask.testing import FlaskClient

from tests import services
from webapp import create_app
from webapp.config import Config
from webapp.extensions import db as _db

pytest_plugins = ("tests.microsoft_flow", "tests.faults.private_redis", "tests.mail_helpers")

RUN_ID = uuid.uuid4().hex[:8]
# This run's keys and queues in the shared Redis, so parallel runs never see each other's jobs.
REDIS_NAMES = {"REDIS_KEY_PREFIX": f"rostersync-test-{RUN_ID}:",
               "QUEUE_QUICK": f"rostersync-test-{RUN_ID}-quick",
               "QUEUE_SYNC": f"rostersync-test-{RUN_ID}-sync"}


def pytest_configure(config):
    config.addinivalue_line("markers", "backends(*names): database backends to run on")
    config.addinivalue_line(
        "markers", "both_databases: what the test checks can differ between SQLite and "
        "PostgreSQL (queries, locking, constraints, migrations, bulk inserts, time in SQL)")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        names = marker.args if marker else ("sqlite", "postgresql")
        metafunc.parametrize("backend", names, indirect=True, scope="session")


@pytest.fixture(scope="session")
def backend(request, tmp_path_factory):
    """Yields (name, database url) with the schema created once for the session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
        yield "sqlite", url
        return
    name, url = services.create_postgres_database()
    yield "postgresql", url
    services.drop_postgres_database(name)


@pytest.fixture(scope="session")
def redis_url():
    if not services.redis_ping():
        services.unavailable(f"Redis is not reachable at {services.REDIS_URL}")
    return services.REDIS_URL


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production.

    The test itself holds an app context for database access; without this, requests would
    share its `g` (and its database session) and hide bugs.
    """

    def open(self, *args, **kwargs):
        if not has_app_context():  # a redirect being followed inside the isolated context
            return super().open(*args, **kwargs)
        response = contextvars.Context().run(super().open, *args, **kwargs)
        _db.session.expire_all()
        return response


def make_test_config(database_url, redis_url, **overrides):
    attributes = {
        "ENV_NAME": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        # Fast hashing keeps hundreds of test accounts cheap; production uses scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        **REDIS_NAMES,
        "TOKEN_ENCRYPTION_KEY": "p1VnWqHqV3qSx0k2rjv8lR5Qh5s1d4JbqYtq6o7mYxY=",
    }
    attributes.update(overrides)
    return type("TestConfig", (Config,), attributes)


_schemas_created = set()


@pytest.fixture
def extra_config():
    """Override in a test module (or folder) to add settings: return a dict."""
    return {}


@pytest.fixture
def app_config_overrides(request, extra_config):
    """The test app's settings beyond make_test_config's. A test that uses the Microsoft
    simulator (the `microsoft` fixture, directly or through another fixture) gets an app
    pointed at it, with retries fast enough for tests; then `extra_config` is added."""
    from tests.microsoft_flow import FAST_RETRIES, simulator_config  # a plugin: loaded after us
    overrides = {}
    if "microsoft" in request.fixturenames:
        overrides.update(simulator_config(request.getfixturevalue("microsoft")), **FAST_RETRIES)
    return {**overrides, **extra_config}


@pytest.fixture
def app(backend, redis_url, app_config_overrides):
    name, database_url = backend
    app = create_app(make_test_config(database_url, redis_url, **app_config_overrides))
    app.test_client_class = IsolatedClient
    with app.app_context():
        if database_url not in _schemas_created:
            _db.create_all()
            _schemas_created.add(database_url)
        yield app
        _db.session.remove()
        _empty_all_tables()
        _db.engine.dispose()
    from webapp.redis_conn import get_redis
    clear_redis(get_redis(app), app.config)


def _empty_all_tables():
    with _db.engine.begin() as conn:
        for table in reversed(_db.metadata.sorted_tables):
            conn.execute(table.delete())


def clear_redis(conn, names):
    """Deletes this run's keys, RQ queues and RQ jobs whose ids carry the key prefix (names:
    REDIS_KEY_PREFIX, QUEUE_QUICK, QUEUE_SYNC). A job kept from an earlier test would make
    RQ's unique=True refuse the next test's job of the same id (an email's id comes from its
    row id and creation time, which a frozen clock repeats)."""
    for key in conn.scan_iter(match=f"{names['REDIS_KEY_PREFIX']}*"):
        conn.delete(key)
    job_prefix = re.sub(r"[^A-Za-z0-9_-]", "-", names["REDIS_KEY_PREFIX"])
    for pattern in (names["QUEUE_QUICK"], names["QUEUE_SYNC"], job_prefix):
        for key in conn.scan_iter(match=f"rq:*{pattern}*"):
            conn.delete(key)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app):
    from tests.factory import Factory
    return Factory()


@pytest.fixture
def sign_in():
    """sign_in(client, email, password="password") posts the real login form."""
    from tests.factory import sign_in as _sign_in
    return _sign_in


@pytest.fixture
def school(app, factory, client, microsoft):
    """Northfield Academy connected to the simulator, Northfield Staff chosen, its admin signed
    in (tests/sync_helpers.py has the helpers that go with it; the fault tests' own school has
    2,500 people and a leaver)."""
    from tests.sync_helpers import connected_school
    return connected_school(factory, client, microsoft)


@pytest.fixture
def admin(factory):
    """An organisation in a trust with one admin; returns a namespace (org, user, trust)."""
    return factory.school_with_admin()


@pytest.fixture
def admin_client(client, admin, sign_in):
    sign_in(client, admin.user.email)
    return client


WORKER_ENV_KEYS = ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "REDIS_KEY_PREFIX", "QUEUE_QUICK",
                   "QUEUE_SYNC", "TOKEN_ENCRYPTION_KEY", "SECRET_KEY", "MICROSOFT_CLIENT_ID",
                   "MICROSOFT_CLIENT_SECRET", "MICROSOFT_AUTHORITY", "MICROSOFT_GRAPH_URL",
                   "SUPPORT_URL", "MAIL_SERVER", "MAIL_PORT", "MAIL_DEFAULT_SENDER",
                   "MAIL_TIMEOUT_SECONDS", "PUBLIC_URL")


def worker_environment(app, extra=None):
    """The environment a real `python -m jobs.worker` needs to serve this test's app."""
    import os
    env = dict(os.environ)
    for key in WORKER_ENV_KEYS:
        value = app.config.get(key)
        if value is not None:
            env["DATABASE_URL" if key == "SQLALCHEMY_DATABASE_URI" else key] = str(value)
    env.update(extra or {})
    return env


@pytest.fixture
def start_worker(app):
    """start_worker(extra_env=None, burst=False, own_group=False) -> Popen of a real RQ worker
    process; stopped after the test. With own_group the worker leads a process group of its own,
    so a test can kill the whole of it (os.killpg) without touching pytest."""
    import subprocess
    import sys
    from pathlib import Path

    processes = []

    def start(extra_env=None, burst=False, own_group=False):
        command = [sys.executable, "-m", "jobs.worker"] + (["--burst"] if burst else [])
        process = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent,
                                   env=worker_environment(app, extra_env),
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   start_new_session=own_group)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

