"""The email job, on the 'quick' queue: it takes the event's id and the moment it was asked for."""
from datetime import datetime

from jobs.context import with_app_context


@with_app_context
def send_notification_job(event_id, as_of):
    from webapp.notifications.delivery import deliver
    return deliver(event_id, datetime.fromisoformat(as_of))
