"""The clock's registrations (jobs/cron_config.py), as RQ's CronScheduler loads them."""
import pytest
from rq.cron import CronScheduler

from jobs.cron_config import DIGEST_CHECK_SECONDS
from jobs.notifications import weekly_digest_job
from jobs.privacy import erase_due_job
from jobs.schedule import enqueue_due_job
from webapp.config import config_from_env


@pytest.mark.backends("sqlite")
def test_the_clock_ticks_erases_due_leavers_daily_and_checks_for_weekly_digests(app):
    from webapp.redis_conn import get_redis
    scheduler = CronScheduler(connection=get_redis())
    scheduler.load_config_from_file("jobs.cron_config")
    by_function = {job.func: job for job in scheduler.get_jobs()}
    assert set(by_function) == {enqueue_due_job, erase_due_job, weekly_digest_job}
    tick, erasure = by_function[enqueue_due_job], by_function[erase_due_job]
    digests = by_function[weekly_digest_job]
    config = config_from_env()  # the clock process reads its settings from the environment
    assert tick.interval == config.CLOCK_INTERVAL_SECONDS and tick.cron is None
    # Hourly: a school whose sync runs when it comes is skipped, and must not wait a day (or,
    # syncing at that time each night, for ever).
    assert erasure.cron == "17 * * * *" and erasure.interval is None
    assert digests.interval == DIGEST_CHECK_SECONDS == 300 and digests.cron is None
    assert {tick.queue_name, erasure.queue_name, digests.queue_name} == {config.QUEUE_QUICK}
