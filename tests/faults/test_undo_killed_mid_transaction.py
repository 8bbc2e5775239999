"""Undo this sync with its worker killed inside the undo's one transaction: nothing changes.

The same pause as tests/faults/test_worker_killed_mid_apply.py, by the database itself:
- PostgreSQL: the test locks the leaver's synced_people row; the undo claims its run, records
  its before values, puts the leaver's membership back to active, then waits for that row lock
  in the UPDATE of synced_people (the test checks from pg_locks what it already wrote);
- SQLite: a reader's SHARED lock holds the undo's COMMIT once its last committed phase says it
  is undoing, so every write of the undo waits in the rollback journal.
Then the worker and its work horse are SIGKILLed. The undo run ends failed with "Nothing was
changed", every table is as before, and a second undo completes.
"""
import pytest
from sqlalchemy import func, select

from harness.factory import csrf_token_from
from tests.faults.helpers import LEAVER, fresh, status_panel, wait_for
from tests.faults.test_worker_killed_mid_apply import (
    blocked_backend, database_counts, kill_mid_apply_sqlite, kill_worker_groups,
    leaver_row_locked, tables_written_by, watcher_sees_gone)
from tests.microsoft_flow import FAST_WORKER_ENV
from tests.sync_helpers import person, sync_in_process
from webapp.extensions import db
from webapp.user_sync import models as m
from webapp.user_sync.engine.undo import UNDOING

pytestmark = pytest.mark.both_databases


def everything(school):
    counts = database_counts()
    counts["sync_prior_values"] = db.session.scalar(select(func.count()).select_from(
        m.PriorValues))
    counts["leaver"] = person(school.org, LEAVER).status
    return counts


def confirm_undo(school, run):
    base = f"/o/{school.org.id}/settings/user-sync/runs/{run.id}/undo"
    preview = school.client.get(base)
    assert "Would be reinstated (1)" in preview.text
    response = school.client.post(base, data={"csrf_token": csrf_token_from(preview.text)})
    assert response.status_code == 303, response.text
    db.session.expire_all()
    return db.session.scalars(select(m.SyncRun).where(m.SyncRun.undoes_run_id == run.id)
                              .order_by(m.SyncRun.id.desc())).first()


def kill_mid_undo_postgresql(app, school, worker, undo):
    with leaver_row_locked(app, school) as watcher:
        backend_pid, query = wait_for(lambda: blocked_backend(watcher), timeout=90,
                                      what="the undo to wait for the leaver's row")
        assert query.lstrip().upper().startswith("UPDATE SYNCED_PEOPLE"), query
        written = tables_written_by(watcher, backend_pid)
        assert {"sync_runs", "sync_prior_values", "memberships"} <= written, written
        kill_worker_groups(worker, fresh(undo.id).worker_pid)
    wait_for(lambda: watcher_sees_gone(app, backend_pid), timeout=30,
             what="the killed worker's database session to end")


def test_an_undo_killed_inside_its_transaction_changes_nothing(app, school, start_worker):
    run = sync_in_process(school)  # the leaver who left the tenant's team is suspended
    assert run.status == m.COMPLETE and run.suspended == 1, run.reason
    before = everything(school)
    assert before["leaver"] == "suspended"
    undo = confirm_undo(school, run)
    worker = start_worker(FAST_WORKER_ENV, own_group=True)
    if db.engine.dialect.name == "postgresql":
        kill_mid_undo_postgresql(app, school, worker, undo)
    else:
        kill_mid_apply_sqlite(app, school, worker, undo, phase_before_apply=UNDOING)

    text = wait_for(lambda: "Undo failed" in (text := status_panel(school, undo.id)) and text,
                    timeout=45, interval=0.5, what="Undo failed on screen")
    assert "stopped responding" in text and "Nothing was changed" in text, text
    assert everything(school) == before  # rolled back whole: nobody half-restored

    worker = start_worker(FAST_WORKER_ENV, burst=True)
    again = confirm_undo(school, run)
    assert worker.wait(timeout=120) == 0
    assert fresh(again.id).status == m.COMPLETE, fresh(again.id).reason
    assert person(school.org, LEAVER).status == "active"
