"""Redis restarted while a sync is fetching. A private redis-server (tests/faults/private_redis.py)
is killed and started again empty, as a Redis without persistence comes back: the queue, the RQ
job record and the run's liveness key are gone. Real worker processes and PostgreSQL.

What the product does: while Redis is down the sync screen still renders and says it cannot tell;
a worker that survives the outage keeps beating its liveness key, so its run is not mistaken for
dead (the missing job record alone proves nothing) and completes; a run whose worker died with
Redis is failed once Redis has been back for the liveness grace, with a reason naming the
restart. Either way nobody is wrongly suspended or duplicated, and Sync now works afterwards.
"""
import pytest
import redis

from tests.faults.helpers import (LEAVER, assert_next_run_completes, assert_unharmed,
                                  click_sync_now, fresh, status_panel, suspended_ids, wait_for)
from tests.faults.test_worker_killed_mid_apply import kill_worker_groups
from tests.microsoft_flow import FAST_RETRIES, FAST_WORKER_ENV
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")
# Each Graph request (the count, then three pages of members). The restart lands while the second
# page is in flight, and the two pages left (10 s) outlast the outage plus the 2 s liveness grace
# even on a slow CI machine: with 2.5 s a page the fetch could finish first.
PAGE_DELAY_MS = 5000
UNREACHABLE = "cannot be reached right now"


@pytest.fixture
def extra_config(private_redis):
    return {"REDIS_URL": private_redis.url}


def start_fetching(school, microsoft, start_worker, **worker_options):
    microsoft.control.set_faults(latency_ms=PAGE_DELAY_MS)
    run = click_sync_now(school)
    worker = start_worker(FAST_WORKER_ENV, **worker_options)
    wait_for(lambda: fresh(run.id).fetched >= 999, what="the first page")
    return run, worker


def still_fetching(run_id):
    run = fresh(run_id)
    return run.status == m.RUNNING and run.fetched < run.total


def screens_while_redis_is_down(school, run_id):
    page = school.client.get(f"/o/{school.org.id}/settings/user-sync/")
    assert page.status_code == 200, page.status_code
    assert UNREACHABLE in page.text and "Syncing" in page.text
    panel = status_panel(school, run_id)
    assert UNREACHABLE in panel and "Syncing" in panel


def redis_uptime(url):
    return redis.Redis.from_url(url).info("server")["uptime_in_seconds"]


def test_a_sync_survives_a_redis_restart_mid_fetch(school, microsoft, start_worker,
                                                     private_redis):
    run, worker = start_fetching(school, microsoft, start_worker)
    private_redis.stop()
    screens_while_redis_is_down(school, run.id)
    private_redis.start()
    assert still_fetching(run.id), "the restart was meant to land mid-fetch"
    # Past the grace after the restart, with the job record gone, the run is still alive on screen
    # because the worker's liveness key came back with Redis.
    grace = FAST_RETRIES["SYNC_LIVENESS_SECONDS"]
    wait_for(lambda: redis_uptime(private_redis.url) > grace, what="Redis up past the grace")
    assert still_fetching(run.id), "the fetch was meant to outlast the grace"
    assert "Syncing" in status_panel(school, run.id)
    microsoft.control.clear_faults()
    wait_for(lambda: "Sync complete" in status_panel(school, run.id),
             timeout=90, interval=0.5, what="Sync complete on screen")
    assert suspended_ids(school) == {LEAVER}
    assert worker.poll() is None  # the worker rode out the restart: Sync now works on it again
    next_run = click_sync_now(school)
    wait_for(lambda: fresh(next_run.id).status == m.COMPLETE, timeout=90, what="the next run")
    assert_next_run_completes(school, fresh(next_run.id))


def test_a_run_whose_worker_died_with_redis_is_failed_after_the_grace(school, microsoft,
                                                                    start_worker, private_redis):
    run, worker = start_fetching(school, microsoft, start_worker, own_group=True)
    private_redis.stop()
    kill_worker_groups(worker, fresh(run.id).worker_pid)  # the whole machine went down
    private_redis.start()
    assert fresh(run.id).status == m.RUNNING
    text = wait_for(lambda: "Sync failed" in (text := status_panel(school, run.id)) and text,
                    timeout=45, interval=0.5, what="Sync failed on screen")
    assert "job queue (Redis) was restarted" in text and "Nothing was changed" in text, text
    assert_unharmed(school)
    microsoft.control.clear_faults()
    worker = start_worker(FAST_WORKER_ENV, burst=True)
    next_run = click_sync_now(school)
    assert worker.wait(timeout=120) == 0
    assert_next_run_completes(school, fresh(next_run.id))


def test_the_liveness_beat_outlasts_a_redis_outage(app, private_redis, caplog):
    """Longer than the Redis client's own retries: the beat keeps trying, and the key comes back
    with Redis instead of the run being declared dead while its worker is working."""
    from webapp.redis_conn import get_redis, redis_key
    from webapp.user_sync.engine import liveness
    conn, key = get_redis(app), redis_key("sync-alive", 4242)
    with liveness.liveness(4242):
        private_redis.stop()
        wait_for(lambda: "liveness not recorded" in caplog.text, timeout=90, what="a failed beat")
        private_redis.start()  # empty: the key is gone until the next beat
        wait_for(lambda: conn.exists(key), timeout=30, what="the liveness key to come back")
    assert not conn.exists(key)
