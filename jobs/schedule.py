"""The tick job, enqueued every minute by the clock process (jobs/cron_config.py)."""
from jobs.context import with_app_context


@with_app_context
def enqueue_due_job():
    from webapp.schedule.tick import tick
    lines = tick()
    return [line.text for line in lines]
