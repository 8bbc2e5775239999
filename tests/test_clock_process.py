"""The real clock: `python -m jobs.scheduler` (RQ's CronScheduler) enqueues the tick every second,
a real worker runs it, and a due school's automatic sync is queued and completed, once."""
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from harness.app_config import worker_environment
from harness.processes import output_of, start_logged
from tests.faults.helpers import wait_for
from tests.microsoft_flow import FAST_WORKER_ENV
from tests.schedule_helpers import runs_of, save_schedule, schedule_of
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clock_process(app, tmp_path):
    process = start_logged([sys.executable, "-m", "jobs.scheduler"], tmp_path / "clock.log",
                           cwd=ROOT, env=worker_environment(app, {"CLOCK_INTERVAL_SECONDS": "1"}))
    yield process
    process.terminate()
    process.wait(timeout=20)
    print(f"--- clock output ---\n{output_of(process)}")


def test_the_clock_process_and_a_worker_sync_a_due_school_once(app, school, clock_process,
                                                                 start_worker):
    save_schedule(school, "6h")
    schedule_of(school.org).next_due_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    start_worker(FAST_WORKER_ENV)
    wait_for(lambda: any(run.status == m.COMPLETE for run in runs_of(school.org)), timeout=120,
             what="the clock's tick to queue the automatic sync and the worker to finish it")
    later = utcnow() + timedelta(seconds=3)
    wait_for(lambda: utcnow() > later, timeout=10, what="a few more ticks")
    runs = runs_of(school.org)
    assert [(run.trigger, run.status) for run in runs] == [(m.TRIGGER_AUTOMATIC, m.COMPLETE)]
    assert schedule_of(school.org).next_due_at.replace(tzinfo=utcnow().tzinfo) > utcnow()
    assert clock_process.poll() is None
