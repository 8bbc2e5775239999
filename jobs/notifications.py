"""The email jobs, on the 'quick' queue: sending one event (its id and the moment it was asked
for), and raising the weekly digests that are due."""
from datetime import datetime

from jobs.context import with_app_context


@with_app_context
def send_notification_job(event_id, as_of):
    from webapp.notifications.delivery import deliver
    return deliver(event_id, datetime.fromisoformat(as_of))


@with_app_context
def weekly_digest_job():
    """Enqueued every few minutes by the clock (jobs/cron_config.py): raises each admin's weekly
    digest once their Monday 07:00 has passed; each is then sent by its own email job."""
    from webapp.clock import utcnow
    from webapp.notifications.digest import raise_weekly_digests
    return raise_weekly_digests(utcnow())
