"""Redis restarted between two ticks: the queued syncs' jobs are gone, and the schedule and the
runs in the database bring every school back, once. A private redis-server, real workers."""
import signal
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.faults.helpers import wait_for
from tests.faults.test_schedule_faults import (  # noqa: F401 (fixture)
    automatic_runs_per_school, school, tick_process, trust_of_due_schools)
from tests.schedule_helpers import run_tick
from tests.microsoft_flow import FAST_WORKER_ENV
from webapp.extensions import db
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")


@pytest.fixture
def extra_config(private_redis):
    return {"REDIS_URL": private_redis.url}


def test_redis_restarted_between_ticks_the_database_brings_every_school_back(
        app, school, private_redis, start_worker):
    as_of = trust_of_due_schools(school, count=4)
    run_tick(app, as_of)
    assert len(automatic_runs_per_school()) == 4
    private_redis.restart()  # every queued job is gone
    output = run_tick(app, as_of + timedelta(minutes=1))
    assert output.count("queued run") == 4 and "again" in output, output
    worker = start_worker({"REDIS_URL": private_redis.url, **FAST_WORKER_ENV}, burst=True)
    assert worker.wait(timeout=180) == 0
    db.session.expire_all()
    statuses = db.session.scalars(select(m.SyncRun.status).where(
        m.SyncRun.trigger == m.TRIGGER_AUTOMATIC)).all()
    assert statuses == [m.COMPLETE] * 4
    assert set(automatic_runs_per_school().values()) == {1}


def test_a_tick_killed_after_recording_its_runs_before_redis_took_them_loses_no_school(
        app, school, private_redis, start_worker):
    """Redis hangs, so the tick stops between its commit and its one pipeline of jobs; killed
    there, it leaves runs recorded with no job. The next tick enqueues each once, and they run."""
    as_of = trust_of_due_schools(school, count=4)
    with private_redis.paused():
        tick = tick_process(app, as_of)
        wait_for(lambda: len(automatic_runs_per_school()) == 4, timeout=60,
                 what="the tick to record its four runs")
        tick.send_signal(signal.SIGKILL)
        tick.wait(timeout=10)
    output = run_tick(app, as_of + timedelta(minutes=1))
    assert output.count("queued run") == 4 and "again" in output, output
    assert automatic_runs_per_school() == {org_id: 1 for org_id in automatic_runs_per_school()}
    worker = start_worker({"REDIS_URL": private_redis.url, **FAST_WORKER_ENV}, burst=True)
    assert worker.wait(timeout=180) == 0
    db.session.expire_all()
    assert db.session.scalars(select(m.SyncRun.status).where(
        m.SyncRun.trigger == m.TRIGGER_AUTOMATIC)).all() == [m.COMPLETE] * 4
