"""Each admin's choice of emails: every kind is on unless they turned it off."""
from sqlalchemy import delete, select

from webapp.extensions import db
from webapp.notifications.events import ADMIN_EVENTS
from webapp.notifications.models import NotificationOptOut


def enabled_events(user_id):
    off = set(db.session.scalars(select(NotificationOptOut.event).where(
        NotificationOptOut.user_id == user_id)))
    return {event for event in ADMIN_EVENTS if event not in off}


def save_enabled_events(user_id, chosen):
    """chosen: the event codes whose boxes were ticked (unknown codes are ignored)."""
    db.session.execute(delete(NotificationOptOut).where(NotificationOptOut.user_id == user_id))
    for event in ADMIN_EVENTS:
        if event not in chosen:
            db.session.add(NotificationOptOut(user_id=user_id, event=event))
    db.session.commit()
