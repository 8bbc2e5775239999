"""Events that come from time passing rather than from a run: checked by every tick."""
from flask import current_app
from sqlalchemy import select

from webapp.extensions import db
from webapp.microsoft import app_credentials
from webapp.microsoft.client_secret import secret_expiry_notice
from webapp.notifications import delivery, events
from webapp.notifications.models import NotificationEvent
from webapp.orgs.models import Organisation
from webapp.schedule.health import no_recent_success
from webapp.schedule.models import SyncSchedule
from webapp.user_sync.engine.fleet import join_stored_facts
from webapp.zones import local_date


def run_checks(now):
    raise_no_recent_success(now)
    raise_secret_expiry(now)
    delivery.resend_due(now)


def raise_no_recent_success(now):
    """Automatic sync on for 48 hours and no sync completed in those 48 hours: once per school
    day (the school's own date, as every event). Not while Microsoft refuses the platform's app
    credentials: that is the operators' to fix, and they were told."""
    if app_credentials.refusal() is not None:
        return
    days = {organisation_id: local_date(now, zone_name)
            for organisation_id, zone_name in db.session.execute(
                join_stored_facts(select(SyncSchedule.organisation_id, Organisation.time_zone)
                                  .join(Organisation, Organisation.id == SyncSchedule.organisation_id),
                                  SyncSchedule.organisation_id)
                .where(no_recent_success(now)))}
    if not days:
        return
    already = set(db.session.execute(select(NotificationEvent.organisation_id, NotificationEvent.day)
                                     .where(NotificationEvent.organisation_id.in_(days),
                                            NotificationEvent.event == events.NO_RECENT_SUCCESS,
                                            NotificationEvent.day.in_(set(days.values())))))
    for organisation_id, day in days.items():
        if (organisation_id, day) not in already:
            events.raise_event(organisation_id, events.NO_RECENT_SUCCESS,
                               events.NO_RECENT_SUCCESS, day, {})


def raise_secret_expiry(now):
    """To OPERATIONS_EMAIL, once when the warning window opens, once a week before, once expired."""
    config = current_app.config
    notice = secret_expiry_notice(config, today=now.date())
    if notice is None or not config["OPERATIONS_EMAIL"]:
        return
    stage = "expired" if notice.expired else ("week" if notice.days_left <= 7 else "window")
    events.raise_event(None, events.SECRET_EXPIRY, f"{events.SECRET_EXPIRY}:{stage}",
                       notice.expires, {"message": notice.message})
