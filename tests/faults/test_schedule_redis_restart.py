"""Redis restarted between two ticks: the queued syncs' jobs are gone, and the schedule and the
runs in the database bring every school back, once. A private redis-server, real workers."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.faults.test_schedule_faults import (  # noqa: F401 (fixture)
    automatic_runs_per_school, school, trust_of_due_schools)
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
