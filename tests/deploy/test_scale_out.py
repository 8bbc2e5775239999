"""Scale-out: two real worker processes run syncs for several organisations at once.

One Redis, one PostgreSQL, two `python -m jobs.worker` processes (as two worker dynos). Syncs of
different schools overlap in time on different workers; a school never has two runs, even when
its job is delivered twice; and every result equals what a quiet, one-at-a-time sync finds.
"""
import json
import time

import pytest
from sqlalchemy import func, select

from harness.processes import output_of
from jobs.sync import run_sync_job
from harness.factory import sign_in
from tests.microsoft_flow import FAST_WORKER_ENV, connect_organisation, demo
from tests.sync_helpers import NORTHFIELD_ADDED, people
from webapp.extensions import db
from webapp.microsoft.selection import choose_group
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.services import graph_client_for
from webapp.redis_conn import enqueue
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.run import run_sync

pytestmark = pytest.mark.backends("postgresql")
# Four schools of one trust, each syncing its own group; the teaching assistants are also in
# Northfield Staff, so the same people are written by two concurrent syncs.
GROUPS = {"Northfield Academy": demo.NORTHFIELD_STAFF_GROUP_ID,
          "Southfield Primary": demo.SOUTHFIELD_STAFF_GROUP_ID,
          "Oak Sixth Form": demo.NORTHFIELD_TA_GROUP_ID,
          "Oak Training Centre": demo.GENERATED_STAFF_GROUP_ID}


def connected_trust(factory, client, sim):
    schools = [factory.organisation(name, "Oak Learning Trust") for name in GROUPS]
    admin = factory.user(demo.ADMIN_UPN, schools, role="admin", name="IT Sync Admin")
    sign_in(client, admin.email)
    assert connect_organisation(client, schools[0], sim).status_code == 302
    graph = graph_client_for(connection_for_organisation(schools[0]))
    for school in schools:
        choose_group(school, admin, GROUPS[school.name], graph)
    return schools, admin


def wait_until_finished(run_ids, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        finished = [db.session.get(m.SyncRun, run_id) for run_id in run_ids]
        if all(run.status not in m.ACTIVE_STATES for run in finished):
            return finished
        time.sleep(0.2)
    raise AssertionError(f"runs still active: {[(r.id, r.status, r.phase) for r in finished]}")


def jobs_by_worker(processes):
    """job id -> worker number, from each worker's structured `job` log lines."""
    ran = {}
    for number, process in enumerate(processes, 1):
        process.terminate()
        process.wait(timeout=30)
        for line in output_of(process).splitlines():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("msg") == "job":
                ran[entry["job_id"]] = (number, entry["status"])
    return ran


def overlapping_pairs(finished):
    return [(a.organisation_id, b.organisation_id) for a in finished for b in finished
            if a.organisation_id < b.organisation_id
            and a.started_at < b.finished_at and b.started_at < a.finished_at]


def test_two_workers_sync_several_schools_at_once_one_run_per_school(
        app, factory, client, microsoft, start_worker):
    microsoft.control.reset(users=600)
    schools, admin = connected_trust(factory, client, microsoft)
    microsoft.control.set_faults(latency_ms=250)  # every Graph page takes a while: runs overlap
    started = [lifecycle.start_run(school, admin) for school in schools]
    assert all(new for _, new in started)
    run_ids = [run.id for run, _ in started]
    # Pressing Sync now again, anywhere, joins the run in progress instead of starting one.
    for school, run_id in zip(schools, run_ids):
        again, new = lifecycle.start_run(school, admin)
        assert (again.id, new) == (run_id, False)
    # A job delivered twice (a retry, a duplicate enqueue) must not run the school twice.
    duplicate = enqueue("sync", run_sync_job, run_ids[0], job_id="duplicate-delivery")

    workers = [start_worker(FAST_WORKER_ENV), start_worker(FAST_WORKER_ENV)]
    finished = wait_until_finished(run_ids)
    duplicate_status = duplicate.get_status(refresh=True)
    ran = jobs_by_worker(workers)

    assert [run.status for run in finished] == [m.COMPLETE] * len(schools), \
        [run.reason for run in finished]
    assert {ran[run.rq_job_id][0] for run in finished} == {1, 2}, "one worker did all the work"
    assert overlapping_pairs(finished), "no two schools' syncs ran at the same time"
    assert duplicate_status == "finished" and duplicate.return_value() is None
    for school in schools:
        assert db.session.scalar(select(func.count(m.SyncRun.id))
                                 .where(m.SyncRun.organisation_id == school.id)) == 1
    assert len(people(schools[0], status="active")) == NORTHFIELD_ADDED
    assert len(people(schools[3], status="active")) >= 500

    # The parallel results are the truth: a quiet sync afterwards finds nothing to change.
    microsoft.control.clear_faults()
    for school in schools:
        again, _ = lifecycle.start_run(school, admin)
        result = run_sync(again.id)
        assert result.status == m.COMPLETE, result.reason
        assert (result.added, result.updated, result.suspended) == (0, 0, 0), school.name
