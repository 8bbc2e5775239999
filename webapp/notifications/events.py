"""Which events need a person, and raising one: at most once per scope, key and day.

A raised event is a row in notification_events (committed, so a restart never resends) and a
job on the quick queue that sends it. The sync never waits for either: everything here runs
after the run's outcome is committed, and a Redis outage only delays the mail to the next tick.
"""
import hashlib
import json
import logging
import re

from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.clock import as_utc, utcnow
from webapp.extensions import db
from webapp.notifications.models import NotificationEvent
from webapp.orgs.models import Organisation
from webapp.redis_conn import enqueue, get_redis, redis_key
from webapp.zones import local_date
from webapp.user_sync import models as m

SYNC_FAILED, NEEDS_REVIEW, RECONNECT_NEEDED = "sync_failed", "needs_review", "reconnect_needed"
NO_RECENT_SUCCESS, RECOVERED, SECRET_EXPIRY = "no_recent_success", "recovered", "client_secret"
APP_CREDENTIALS = "app_credentials"  # Microsoft refused the platform's client secret (operators)
WEEKLY_DIGEST = "weekly_digest"  # one admin's schools, once a week (notifications.digest)
# The kinds each admin can turn off on the Notifications page, in the order shown there.
ADMIN_EVENTS = {
    SYNC_FAILED: "An automatic sync failed",
    NEEDS_REVIEW: "An automatic sync needs review before it removes people",
    RECONNECT_NEEDED: "Microsoft needs reconnecting",
    NO_RECENT_SUCCESS: "No successful sync for 48 hours while automatic sync is on",
    RECOVERED: "Syncing again after failures",
}
OPERATIONS = "operations"
log = logging.getLogger(__name__)
ENDED_JOBS = (JobStatus.FAILED, JobStatus.FINISHED, JobStatus.STOPPED, JobStatus.CANCELED)


def school_day(organisation_id, moment):
    """The date at the school when `moment` happened: events are deduplicated per school day
    (a failure at 00:30 BST is the next day's news in London, not the same UTC day's)."""
    zone_name = db.session.scalar(select(Organisation.time_zone).where(
        Organisation.id == organisation_id))
    return local_date(moment, zone_name)


def after_run(run, previous_failures, reconnect_reason=None):
    """Raises the events an automatic run's outcome calls for (Sync now is watched on screen).
    reconnect_reason: what happened to the Microsoft sign-in, when it now needs reconnecting (the
    mail says it without the run's own "Reconnect..." advice, which the mail gives once)."""
    day = school_day(run.organisation_id, run.finished_at or utcnow())
    if run.status == m.COMPLETE and previous_failures > 0:
        raise_event(run.organisation_id, RECOVERED, RECOVERED, day, {"run_id": run.id})
    if not run.is_automatic:
        return
    if run.status == m.FAILED and reconnect_reason:
        raise_event(run.organisation_id, RECONNECT_NEEDED, RECONNECT_NEEDED, day,
                    {"run_id": run.id, "reason": reconnect_reason})
    elif run.status == m.FAILED:
        raise_event(run.organisation_id, SYNC_FAILED, f"{SYNC_FAILED}:{reason_digest(run.reason)}",
                    day, {"run_id": run.id, "reason": run.reason})
    elif run.status == m.NEEDS_REVIEW:
        raise_event(run.organisation_id, NEEDS_REVIEW, NEEDS_REVIEW, day, {
            "run_id": run.id, "suspend": run.suspended, "add": run.added,
            "update": run.updated, "reinstate": run.reinstated, "reason": run.reason})


def reason_digest(reason):
    """The same failure with another run number is the same reason: a reminder, not news."""
    return hashlib.sha256(re.sub(r"\d+", "#", reason or "").encode()).hexdigest()[:16]


def raise_event(organisation_id, event, dedupe_key, day, payload, user_id=None):
    """Records the event once; returns its row, or None if it was already raised that day.
    user_id: a mail to that one person (the weekly digest, an invitation, a password reset)
    rather than to a school's admins or the operators."""
    row = NotificationEvent(organisation_id=organisation_id, event=event, dedupe_key=dedupe_key,
                            day=day, payload=json.dumps(payload), user_id=user_id,
                            scope=event_scope(organisation_id, user_id))
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    enqueue_delivery(row)
    return row


def event_scope(organisation_id=None, user_id=None):
    """Whom an event is for: the dedupe rule is once per scope, key and day."""
    if user_id is not None:
        return f"user:{user_id}"
    return f"org:{organisation_id}" if organisation_id else OPERATIONS


def delivery_job_id(row):
    """One id per attempt of one event: RQ's unique=True then refuses a second copy. The
    creation time keeps ids apart if a database is ever reset under the same Redis."""
    created = int(as_utc(row.created_at).timestamp() * 1_000_000)
    key = redis_key("notification", row.id, created, row.attempts)
    return re.sub(r"[^A-Za-z0-9_-]", "-", key)  # RQ allows letters, digits, - and _


def enqueue_delivery(row, as_of=None):
    job_id = delivery_job_id(row)
    try:
        for _ in range(2):
            try:
                enqueue("quick", "jobs.notifications.send_notification_job", row.id,
                        (as_of or utcnow()).isoformat(), job_id=job_id,
                        unique=True, description=f"email {row.event} ({row.scope})")
                return
            except DuplicateJobError:
                if not _forget_ended_job(job_id):
                    return  # this attempt is already queued or being sent
    except Exception as error:  # Redis down: the row stays pending and the next tick sends it
        log.warning("email %s (%s) not queued (%s); the next tick retries", row.id, row.event,
                    type(error).__name__)


def _forget_ended_job(job_id):
    """Whether the job of this id has ended (deleted now, so the attempt can be queued again).
    A job that failed before it claimed its row (the database unreachable, the worker killed)
    leaves the row's attempt unchanged, so the same id: kept for days in RQ's failed jobs, it
    made every later tick's enqueue a duplicate, and the mail never went."""
    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return True  # expired meanwhile
    if job.get_status(refresh=False) not in ENDED_JOBS:
        return False
    job.delete()
    return True
