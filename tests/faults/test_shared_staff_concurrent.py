"""Staff shared between two schools of one trust, synced at the same moment (two schools at
02:00, spread over the same half hour, two workers): both first syncs add the same people.

Real workers, PostgreSQL, Redis and the simulator. The overlap is made certain by the database,
not by luck: the test holds an EXCLUSIVE lock on sync_changes, so Northfield's apply stops at
its history insert with its new users written but not committed; Southfield's apply then
inserts the same users. When the lock is released, both syncs must complete, with each person
once in `users` and active in both schools.
"""
import psycopg
import pytest
from sqlalchemy import func, select

from tests.faults.helpers import fresh, wait_for
from tests.microsoft_flow import FAST_WORKER_ENV
from tests.sync_helpers import NORTHFIELD, NORTHFIELD_ADDED, shared_school
from webapp.auth.models import User
from webapp.extensions import db
from webapp.microsoft.selection import choose_group
from webapp.microsoft.services import graph_client_for
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle

pytestmark = pytest.mark.backends("postgresql")


@pytest.fixture
def school(app, factory, client, microsoft):
    """Northfield and Southfield (one trust, one connection) both syncing Northfield Staff."""
    return shared_school("two-schools-sharing-staff", factory, client, microsoft,
                         prepare=southfield_chooses_northfield_staff)


def southfield_chooses_northfield_staff(school):
    choose_group(school.oak.south, school.admin, NORTHFIELD, graph_client_for(school.connection))


def postgres_url(app):
    return app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")


def lock_waiters(watcher):
    """(pid, query) of every other backend of this database waiting for a lock."""
    return watcher.execute(
        "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").fetchall()


def ended(run_id):
    return fresh(run_id).status not in m.ACTIVE_STATES


def active_people(org):
    return db.session.scalar(select(func.count()).select_from(m.SyncedPerson).where(
        m.SyncedPerson.organisation_id == org.id, m.SyncedPerson.status == "active"))


def test_two_schools_sharing_staff_sync_at_once_and_both_complete(app, school, start_worker):
    north, south = school.oak.north, school.oak.south
    with psycopg.connect(postgres_url(app)) as locker, \
            psycopg.connect(postgres_url(app), autocommit=True) as watcher:
        locker.execute("LOCK TABLE sync_changes IN EXCLUSIVE MODE")
        first, _ = lifecycle.start_run(north, school.admin)
        start_worker(FAST_WORKER_ENV, burst=True)
        (first_pid, query), = wait_for(lambda: lock_waiters(watcher), timeout=90,
                                       what="Northfield's apply to wait at its history insert")
        assert "sync_changes" in query, query
        second, _ = lifecycle.start_run(south, school.admin)
        start_worker(FAST_WORKER_ENV, burst=True)
        # Southfield writes the same people while Northfield's are uncommitted: it waits for
        # Northfield's transaction (or, if the engine avoids that, it simply finishes).
        wait_for(lambda: [w for w in lock_waiters(watcher) if w[0] != first_pid]
                 or ended(second.id), timeout=90, what="Southfield's apply to meet Northfield's")
        locker.rollback()
    wait_for(lambda: ended(first.id) and ended(second.id), timeout=90, what="both runs to end")

    outcomes = {run.id: (fresh(run.id).status, fresh(run.id).reason) for run in (first, second)}
    assert {status for status, _ in outcomes.values()} == {m.COMPLETE}, outcomes
    assert active_people(north) == active_people(south) == NORTHFIELD_ADDED
    shared = db.session.scalars(select(m.SyncedPerson.email_normalised).where(
        m.SyncedPerson.organisation_id == north.id)).all()
    assert db.session.scalar(select(func.count()).select_from(User).where(
        User.email_normalised.in_(shared))) == len(shared)  # each person one account
