"""The clock's one registration, read by RQ's CronScheduler (`python -m jobs.scheduler`, or
`rq cron jobs.cron_config --url redis://...` where the Redis URL needs no TLS options).

Every CLOCK_INTERVAL_SECONDS it enqueues the tick job on the quick queue. The schedule itself
(daily times in each school's time zone) lives in the database and is computed by our code, so
RQ's cron strings (UTC) are not used, and a second clock process only enqueues a second tick,
which finds nothing left to claim.

Every hour (at 17 past) it also enqueues the data-protection job that erases due leavers and
prunes the audit log; it is idempotent, so a second clock's copy erases nothing more. Hourly,
not daily: a school whose sync is running when it comes is skipped, and a school whose daily
sync ran at that one time each night was never erased.

Every five minutes (DIGEST_CHECK_SECONDS) it enqueues the weekly digest check: each admin who asked for the
digest gets it once their own Monday 07:00 has passed (their school's time zone, computed by
webapp.notifications.digest, not by a cron string); a second clock's check finds it raised.
"""
from rq import cron

from jobs.notifications import weekly_digest_job
from jobs.privacy import erase_due_job
from jobs.schedule import enqueue_due_job
from webapp.config import config_from_env

_config = config_from_env()
DIGEST_CHECK_SECONDS = 300  # a digest arrives within five minutes of the admin's Monday 07:00
cron.register(enqueue_due_job, queue_name=_config.QUEUE_QUICK,
              interval=_config.CLOCK_INTERVAL_SECONDS,
              job_timeout=_config.JOB_TIMEOUT_QUICK_SECONDS,
              result_ttl=_config.JOB_RESULT_TTL_SECONDS,
              failure_ttl=_config.JOB_FAILURE_TTL_SECONDS,
              # A tick nobody ran within the interval is replaced by the next one.
              ttl=max(_config.CLOCK_INTERVAL_SECONDS, 60))
cron.register(erase_due_job, queue_name=_config.QUEUE_QUICK, cron="17 * * * *",
              job_timeout=_config.JOB_TIMEOUT_QUICK_SECONDS,
              result_ttl=_config.JOB_RESULT_TTL_SECONDS,
              failure_ttl=_config.JOB_FAILURE_TTL_SECONDS)
cron.register(weekly_digest_job, queue_name=_config.QUEUE_QUICK,
              interval=DIGEST_CHECK_SECONDS,
              job_timeout=_config.JOB_TIMEOUT_QUICK_SECONDS,
              result_ttl=_config.JOB_RESULT_TTL_SECONDS,
              failure_ttl=_config.JOB_FAILURE_TTL_SECONDS,
              ttl=max(DIGEST_CHECK_SECONDS, 60))
