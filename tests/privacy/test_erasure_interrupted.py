"""The erasure killed inside its transaction (a real RQ worker, SIGKILLed), then run again:
nothing was half-erased, and the re-run erases everything once. Paused by the database itself,
as in tests/faults/test_worker_killed_mid_apply.py (which explains the two locks):
- PostgreSQL: the test holds the leaver's membership row, so the job waits when deleting it,
  after scrubbing their sync history and audit entries in the same transaction (it locks the
  due synced_people rows itself, when it reads them);
- SQLite: a reader's SHARED lock holds the job's COMMIT (its only commit is the erasure's).
"""
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path

import psycopg


from sqlalchemy import select

from tests.faults.helpers import wait_for
from tests.microsoft_flow import FAST_WORKER_ENV
from tests.faults.test_worker_killed_mid_apply import (
    blocked_backend, kill_worker_groups, postgres_url, sqlite_path, tables_written_by,
    watcher_sees_gone, writer_waiting_to_commit)
from tests.privacy.audit_helpers import entries
from tests.privacy.erasure_helpers import (LEAVER, LEAVER_EMAIL, N, days_after, erase_due,
                                           places_holding, with_a_leaver)
from tests.sync_helpers import person
from webapp.audit import actions
from webapp.extensions import db
from webapp.redis_conn import enqueue
from webapp.user_sync import models as m


def work_horse_pid(worker):
    """RQ forks a work horse per job: the worker's child process."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return int(children[0]) if children else None


@contextmanager
def leaver_membership_locked(app, school):
    """Holds the leaver's membership row; yields an autocommit connection to watch with."""
    with psycopg.connect(postgres_url(app)) as locker, \
            psycopg.connect(postgres_url(app), autocommit=True) as watcher:
        locked = locker.execute(
            "SELECT m.id FROM memberships m JOIN synced_people p ON p.membership_id = m.id "
            "WHERE p.organisation_id = %s AND p.microsoft_id = %s FOR UPDATE OF m",
            (school.org.id, LEAVER)).fetchall()
        assert len(locked) == 1
        try:
            yield watcher
        finally:
            locker.rollback()


def kill_mid_erasure_postgresql(app, school, worker):
    with leaver_membership_locked(app, school) as watcher:
        backend_pid, query = wait_for(lambda: blocked_backend(watcher), timeout=90,
                                      what="the erasure to wait for the leaver's membership")
        assert query.lstrip().upper().startswith("DELETE FROM MEMBERSHIPS"), query
        assert {"sync_changes", "audit_entries"} <= tables_written_by(watcher, backend_pid)
        kill_worker_groups(worker, wait_for(lambda: work_horse_pid(worker), what="the horse"))
    wait_for(lambda: watcher_sees_gone(app, backend_pid), timeout=30,
             what="the killed worker's database session to end")


def kill_mid_erasure_sqlite(app, worker, start_job):
    path = sqlite_path(app)
    fd = os.open(path, os.O_RDONLY)
    holder = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM synced_people").fetchone()  # SHARED lock
        start_job()
        wait_for(lambda: writer_waiting_to_commit(fd), timeout=90, interval=0.01,
                 what="the erasure's commit")
        assert os.path.getsize(path + "-journal") > 0  # its writes wait in the journal
        kill_worker_groups(worker, work_horse_pid(worker))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        os.close(fd)


def test_an_erasure_killed_mid_transaction_changes_nothing_and_the_rerun_finishes(
        app, school, start_worker):
    leaver = with_a_leaver(school)
    as_of, leaver_id = days_after(leaver, N + 1), leaver.id
    held_before = places_holding(LEAVER_EMAIL)
    worker = start_worker(FAST_WORKER_ENV, own_group=True)

    def start_job():
        from jobs.privacy import erase_due_job
        enqueue("quick", erase_due_job, as_of, description="erasure (test)")

    if db.engine.dialect.name == "postgresql":
        start_job()
        kill_mid_erasure_postgresql(app, school, worker)
    else:
        kill_mid_erasure_sqlite(app, worker, start_job)

    assert person(school.org, LEAVER) is not None
    assert places_holding(LEAVER_EMAIL) == held_before  # rolled back whole
    assert entries(actions.ERASURE_RUN) == []

    assert "erased 1 leaver(s)" in erase_due(app, as_of)
    assert places_holding(LEAVER_EMAIL) == []
    assert db.session.scalars(select(m.SyncedPerson).where(
        m.SyncedPerson.id == leaver_id)).first() is None
    assert len(entries(actions.ERASURE_RUN)) == 1
