"""Sync now with real RQ worker processes and real Redis: outcomes, one run per organisation,
and a worker killed mid-fetch leaving the run failed with nothing applied."""
import os
import signal
import threading

import pytest

from harness.factory import csrf_token_from
from harness.processes import output_of
from tests.faults.helpers import wait_for
from tests.microsoft_flow import FAST_WORKER_ENV, demo
from tests.sync_helpers import (NORTHFIELD_ADDED, people, person, shared_connected_school,
                                shared_school, sync_in_process)
from webapp.auth.models import User
from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle, queries

HTMX = {"HX-Request": "true"}


def click_sync_now(school):
    page = school.client.get(f"/o/{school.org.id}/settings/user-sync/")
    return school.client.post(f"/o/{school.org.id}/settings/user-sync/sync", headers=HTMX,
                              data={"csrf_token": csrf_token_from(page.text)})


def status_of(school, run_id):
    return school.client.get(f"/o/{school.org.id}/settings/user-sync/runs/{run_id}/status",
                             headers=HTMX).text


def fresh_run(run_id):
    db.session.expire_all()
    return db.session.get(m.SyncRun, run_id)


def test_sync_now_runs_on_a_real_worker_and_the_screen_shows_sync_complete(
        app, factory, client, microsoft, start_worker):
    school = shared_connected_school(factory, client, microsoft)
    click_sync_now(school)
    run = db.session.query(m.SyncRun).one()
    worker = start_worker(FAST_WORKER_ENV, burst=True)
    assert worker.wait(timeout=90) == 0, output_of(worker)
    assert fresh_run(run.id).status == m.COMPLETE, fresh_run(run.id).reason
    assert "Sync complete" in status_of(school, run.id)
    assert len(people(school.org, status="active")) == NORTHFIELD_ADDED


def test_concurrent_clicks_and_two_workers_make_exactly_one_run(app, factory, client, microsoft,
                                                            start_worker):
    school = shared_connected_school(factory, client, microsoft)
    started, errors = [], []
    org_id, admin_id = school.org.id, school.admin.id

    def press():  # each click in its own app context and session, as each web request is
        try:
            with app.app_context():
                run, new = lifecycle.start_run(db.session.get(Organisation, org_id),
                                               db.session.get(User, admin_id))
                started.append((run.id, new))
        except Exception as error:  # surfaced below
            errors.append(error)
    threads = [threading.Thread(target=press) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({run_id for run_id, _ in started}) == 1
    assert [new for _, new in started].count(True) == 1
    workers = [start_worker(FAST_WORKER_ENV, burst=True) for _ in range(2)]
    for worker in workers:
        worker.wait(timeout=90)
    assert db.session.query(m.SyncRun).count() == 1
    assert fresh_run(started[0][0]).status == m.COMPLETE


@pytest.mark.parametrize("kill_whole_worker", [True, False], ids=["worker-and-horse", "horse"])
def test_a_worker_killed_mid_fetch_fails_the_run_and_applies_nothing(
        app, factory, client, microsoft, start_worker, kill_whole_worker):
    microsoft.control.reset(users=2500)
    school = shared_school("generated-staff", factory, client, microsoft,
                           demo.GENERATED_STAFF_GROUP_ID)
    assert sync_in_process(school).status == m.COMPLETE
    synced = len(people(school.org, status="active"))
    leaver = "f0000000-0000-4000-8000-000000000001"
    assert microsoft.control.remove_member("f1000000-0000-4000-8000-000000000001", leaver)
    microsoft.control.set_faults(latency_ms=1500)  # every page now takes a while
    click_sync_now(school)
    run = db.session.query(m.SyncRun).order_by(m.SyncRun.id.desc()).first()
    worker = start_worker(FAST_WORKER_ENV)
    running = wait_for(lambda: (r := fresh_run(run.id)).fetched >= 999 and r, timeout=60)
    if kill_whole_worker:
        worker.kill()  # the whole dyno goes: nobody is left to tell RQ
    os.kill(running.worker_pid, signal.SIGKILL)
    text = wait_for(lambda: "Sync failed" in (t := status_of(school, run.id)) and t, timeout=30,
                    interval=0.5)
    assert "Nothing was changed" in text
    assert fresh_run(run.id).status == m.FAILED and queries.active_run(school.org.id) is None
    assert len(people(school.org, status="active")) == synced
    assert person(school.org, leaver).status == "active"
