"""The RQ worker killed while the sync is inside its apply transaction: after the complete fetch,
with the people writes under way. Real worker processes, Redis, and both databases.

The worker is paused there by the database itself, with a lock the test holds (no test branch in
the product):

- PostgreSQL: the test locks the leaver's synced_people row (SELECT ... FOR UPDATE). The worker
  claims the run, writes the leaver's membership as suspended, then waits for that row lock in
  the UPDATE of synced_people: a people write done, the next one pending, nothing committed.
- SQLite has no row locks, only one database-wide lock, so the test pauses the worker at the
  apply's COMMIT instead: a reader's SHARED lock keeps a writer from committing (rollback-journal
  mode), so the worker has written every change of the apply into its transaction and waits to
  make it durable. The test lets each earlier commit through one at a time and holds the lock
  once the committed phase says the fetch is complete ("Comparing ..."), so the commit it then
  blocks can only be the apply's. The uncommitted writes sit in the rollback journal.
  What SQLite cannot show: that the apply is one transaction rather than several (the pause is
  at the first commit after the fetch, whatever it holds). The PostgreSQL run proves that: it
  checks, from pg_locks, that the blocked transaction already wrote sync_runs and memberships.

Then the worker's process group and its work horse's (RQ runs each job in a process group of its
own) are SIGKILLed: no one is left to tell RQ or to roll back politely. The run's Redis liveness
key lapses and the screen's next poll fails the run.
"""
import fcntl
import os
import signal
import sqlite3
import struct
import time
from contextlib import contextmanager

import psycopg
from sqlalchemy import func, select

from tests.faults.helpers import (LEAVER, assert_next_run_completes, assert_unharmed,
                                  click_sync_now, fresh, status_panel, wait_for)
from tests.microsoft_flow import FAST_WORKER_ENV
from webapp.auth.models import User
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.user_sync import models as m

COMPARING = "Comparing with the people already synced"  # the phase committed after a full fetch


def database_counts():
    db.session.expire_all()
    counted = {"users": User, "memberships": Membership, "synced_people": m.SyncedPerson,
               "sync_changes": m.SyncChange}
    counts = {name: db.session.scalar(select(func.count()).select_from(model))
              for name, model in counted.items()}
    counts["suspended memberships"] = db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.status != "active"))
    return counts


def process_gone(pid):
    """Exited (a zombie nobody reaped yet counts: its sockets and file locks are released)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def kill_worker_groups(worker, horse_pid):
    os.killpg(worker.pid, signal.SIGKILL)  # the worker leads its own group (own_group=True)
    os.killpg(horse_pid, signal.SIGKILL)   # RQ's work horse calls setpgrp(): a group of its own
    worker.wait(timeout=10)
    wait_for(lambda: process_gone(horse_pid), timeout=10, what="the work horse to die")


# ----- PostgreSQL: a row lock on the leaver's synced_people row -----

def postgres_url(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def leaver_row_locked(app, school, microsoft_id=LEAVER):
    """Holds the leaver's synced_people row; yields an autocommit connection to watch with."""
    with psycopg.connect(postgres_url(app)) as locker, \
            psycopg.connect(postgres_url(app), autocommit=True) as watcher:
        locked = locker.execute(
            "SELECT id FROM synced_people WHERE organisation_id = %s AND microsoft_id = %s "
            "FOR UPDATE", (school.org.id, microsoft_id)).fetchall()
        assert len(locked) == 1
        try:
            yield watcher
        finally:
            locker.rollback()


def blocked_backend(watcher):
    return watcher.execute(
        "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").fetchone()


def tables_written_by(watcher, backend_pid):
    return {name for (name,) in watcher.execute(
        "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE l.pid = %s AND l.mode = 'RowExclusiveLock'", (backend_pid,))}


def kill_mid_apply_postgresql(app, school, worker, run):
    with leaver_row_locked(app, school) as watcher:
        backend_pid, query = wait_for(lambda: blocked_backend(watcher), timeout=90,
                                      what="the worker to wait for the leaver's row")
        assert query.lstrip().upper().startswith("UPDATE SYNCED_PEOPLE"), query
        # Inside one transaction it has claimed the run and suspended the leaver's membership.
        assert {"sync_runs", "memberships"} <= tables_written_by(watcher, backend_pid)
        kill_worker_groups(worker, fresh(run.id).worker_pid)
    # The lock is released: the orphaned backend finishes its UPDATE, finds its client gone,
    # and rolls the whole transaction back.
    wait_for(lambda: watcher_sees_gone(app, backend_pid), timeout=30,
             what="the killed worker's database session to end")


def watcher_sees_gone(app, backend_pid):
    with psycopg.connect(postgres_url(app), autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
                            (backend_pid,)).fetchone()[0] == 0


# ----- SQLite: a reader's SHARED lock holds the apply's COMMIT -----

def sqlite_path(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


# SQLite's lock bytes (src/os.h): a writer in COMMIT, waiting for readers to finish, holds the
# PENDING byte with a write lock. fcntl(F_GETLK) sees another process's lock without taking one.
# (A second connection from this process cannot probe: SQLite shares one process's locks.)
PENDING_BYTE = 0x40000000
FLOCK = "hhqqi4x"  # struct flock on 64-bit Linux: type, whence, start, len, pid


def writer_waiting_to_commit(fd):
    query = struct.pack(FLOCK, fcntl.F_RDLCK, os.SEEK_SET, PENDING_BYTE, 1, 0)
    return struct.unpack(FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, query))[0] == fcntl.F_WRLCK


def hold_the_apply_commit(path, fd, run_id, phase_before_apply=COMPARING):
    """Lets the worker's commits through one by one until the one after the run's last
    committed phase (for a sync, the complete fetch); returns (holder connection still
    holding SHARED, the work horse's pid)."""
    holder = sqlite3.connect(path, timeout=60, isolation_level=None)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            holder.execute("BEGIN")
            status, phase, horse_pid = holder.execute(
                "SELECT status, phase, worker_pid FROM sync_runs WHERE id = ?", (run_id,)).fetchone()
            assert status in (m.QUEUED, m.RUNNING), (status, phase)
            wait_for(lambda: writer_waiting_to_commit(fd), timeout=60, interval=0.01,
                     what=f"the worker's next commit after phase {phase!r}")
            if status == m.RUNNING and phase == phase_before_apply:
                return holder, horse_pid
            holder.execute("COMMIT")  # let this commit through; the loop waits for the next one
        raise AssertionError("the worker never reached the apply commit")
    except BaseException:
        holder.close()
        raise


def kill_mid_apply_sqlite(app, school, worker, run, phase_before_apply=COMPARING):
    path = sqlite_path(app)
    # Kept open until the end: closing any descriptor of the file drops this process's locks.
    fd = os.open(path, os.O_RDONLY)
    try:
        holder, horse_pid = hold_the_apply_commit(path, fd, run.id, phase_before_apply)
        try:  # the apply's writes wait in the rollback journal, not yet in the database
            assert os.path.getsize(path + "-journal") > 0
            kill_worker_groups(worker, horse_pid)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    finally:
        os.close(fd)


# ----- the test -----

def test_a_worker_killed_inside_the_apply_transaction(app, school, start_worker):
    before = database_counts()
    run = click_sync_now(school)
    worker = start_worker(FAST_WORKER_ENV, own_group=True)
    if db.engine.dialect.name == "postgresql":
        kill_mid_apply_postgresql(app, school, worker, run)
    else:
        kill_mid_apply_sqlite(app, school, worker, run)

    text = wait_for(lambda: "Sync failed" in (text := status_panel(school, run.id)) and text,
                    timeout=45, interval=0.5, what="Sync failed on screen")
    assert "stopped responding" in text and "Nothing was changed" in text, text
    assert fresh(run.id).status == m.FAILED
    assert database_counts() == before  # the transaction rolled back whole: no partial writes
    assert_unharmed(school)

    worker = start_worker(FAST_WORKER_ENV, burst=True)
    next_run = click_sync_now(school)
    assert worker.wait(timeout=120) == 0
    assert_next_run_completes(school, fresh(next_run.id))
