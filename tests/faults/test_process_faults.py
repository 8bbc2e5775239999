"""Processes dying under a real sync: the RQ worker killed mid-fetch, and every PostgreSQL
connection of the app dropped mid-run. Real worker processes, PostgreSQL, Redis."""
import os
import signal

import psycopg
import pytest

from tests.faults.helpers import (assert_next_run_completes, assert_unharmed,
                                  click_sync_now, fresh, status_panel, wait_for)
from tests.microsoft_flow import FAST_WORKER_ENV
from tests.services import POSTGRES_URL
from webapp.extensions import db
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")


@pytest.fixture
def admin_sql(app):
    """A connection of our own to the test database, outside the app's pool."""
    name = app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]
    conn = psycopg.connect(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name, autocommit=True)
    conn.database_name = name
    yield conn
    conn.close()


def kill_worker_and_job(worker, run_id):
    worker.kill()  # the whole dyno goes: nobody is left to tell RQ
    try:
        os.kill(fresh(run_id).worker_pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    worker.wait(timeout=10)


def wait_until_failed_on_screen(school, run_id):
    return wait_for(lambda: "Sync failed" in (text := status_panel(school, run_id)) and text,
                    timeout=45, interval=0.5, what="Sync failed on screen")


def next_run_on_a_new_worker(school, start_worker):
    worker = start_worker(FAST_WORKER_ENV, burst=True)
    run = click_sync_now(school)
    assert worker.wait(timeout=120) == 0
    return assert_next_run_completes(school, fresh(run.id))


def test_a_worker_killed_mid_fetch(school, microsoft, start_worker):
    microsoft.control.set_faults(latency_ms=700)  # slow pages: time to kill it mid-fetch
    run = click_sync_now(school)
    worker = start_worker(FAST_WORKER_ENV)
    wait_for(lambda: fresh(run.id).fetched >= 999, what="the first page")
    kill_worker_and_job(worker, run.id)
    text = wait_until_failed_on_screen(school, run.id)
    assert "stopped" in text and "Nothing was changed" in text and "Sync now" in text
    assert_unharmed(school)
    microsoft.control.clear_faults()
    next_run_on_a_new_worker(school, start_worker)


def test_postgresql_connections_dropped_mid_run(school, microsoft, start_worker, admin_sql):
    microsoft.control.set_faults(latency_ms=500)
    run = click_sync_now(school)
    worker = start_worker(FAST_WORKER_ENV)
    wait_for(lambda: fresh(run.id).fetched >= 999, what="the first page")
    db.session.commit()  # hand our connection back; it is dropped with the rest
    dropped = admin_sql.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()", (admin_sql.database_name,)).fetchone()[0]
    assert dropped >= 1  # at least the worker's
    finished = wait_for(lambda: (r := fresh(run.id)).status in (m.COMPLETE, m.FAILED) and r,
                        timeout=90, what="the run to finish")
    text = status_panel(school, run.id)  # the web side reconnects too (pool pre-ping)
    microsoft.control.clear_faults()
    if finished.status == m.FAILED:
        assert "Sync failed" in text and "Nothing was changed" in text
        assert_unharmed(school)
        run = click_sync_now(school)
        wait_for(lambda: fresh(run.id).status == m.COMPLETE, timeout=90, what="the next run")
        assert_next_run_completes(school, fresh(run.id))
    else:  # reconnected transparently between pages
        assert "Sync complete" in text
        assert_next_run_completes(school, finished)
    worker.terminate()
