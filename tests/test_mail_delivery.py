"""Sending one email when the world is not tidy: a send job that died before it claimed its
row, a job run long after it was queued, a mail server that refuses one of the recipients.
Against the loopback SMTP server; time through frozen_at."""
from datetime import timedelta

import pytest
from rq.job import Job, JobStatus
from rq.registry import FailedJobRegistry
from sqlalchemy import select

from tests.microsoft_flow import run_quick_jobs
from webapp.clock import as_utc, frozen_at, utcnow
from webapp.extensions import db
from webapp.notifications import delivery, events
from webapp.notifications.models import PENDING, SENT, NotificationEvent
from webapp.redis_conn import get_queue, get_redis
from webapp.schedule.timed_events import run_checks

PAYLOAD = {"run_id": 1, "reason": "The group was deleted in Microsoft."}


@pytest.fixture
def extra_config(smtp_server):
    return smtp_server.config()


def raise_failed_sync(admin):
    return events.raise_event(admin.org.id, events.SYNC_FAILED, "sync_failed:test",
                              utcnow().date(), PAYLOAD)


def row_of(row_id):
    db.session.expire_all()
    return db.session.get(NotificationEvent, row_id)


def test_a_send_job_that_died_before_claiming_its_row_is_queued_again_by_the_tick(
        app, admin, smtp_server):
    """The worker died (or the database was unreachable) before the job claimed the row: RQ
    keeps the job among its failed ones for days, under the id the row's next attempt also
    has (its attempts never moved). Every tick's enqueue was a duplicate: no mail, ever."""
    row = raise_failed_sync(admin)
    job_id = events.delivery_job_id(row)
    queue = get_queue("quick", app)
    job = Job.fetch(job_id, connection=get_redis(app))
    queue.remove(job)
    job.set_status(JobStatus.FAILED)
    FailedJobRegistry(queue=queue).add(job, ttl=7 * 24 * 3600, exc_string="worker lost")
    assert row_of(row.id).attempts == 0
    with frozen_at(utcnow() + timedelta(minutes=1)) as clock:
        run_checks(clock.now)
    run_quick_jobs(app)
    smtp_server.wait_for(1)
    assert (row_of(row.id).status, len(smtp_server.messages)) == (SENT, 1)


def test_a_send_job_that_is_still_queued_is_not_queued_twice(app, admin, smtp_server):
    row = raise_failed_sync(admin)
    with frozen_at(utcnow() + timedelta(minutes=1)) as clock:
        run_checks(clock.now)
    assert get_queue("quick", app).job_ids.count(events.delivery_job_id(row)) == 1
    run_quick_jobs(app)
    assert len(smtp_server.wait_for(1)) == 1


def lease_at_arrival(app, row_id, seen):
    """What the row's lease said the moment the mail reached the server (another connection,
    as a second worker or the tick would read it)."""
    def look(_message):
        with app.app_context(), db.engine.connect() as connection:
            seen.append(connection.scalar(select(NotificationEvent.next_attempt_at).where(
                NotificationEvent.id == row_id)))
    return look


def test_a_send_job_run_late_holds_its_lease_while_it_sends(app, admin, smtp_server):
    """Queued at T0 and run twelve minutes later (a busy queue): the lease was taken from T0,
    so it had ended before the send began, and the next tick queued a second copy."""
    asked = utcnow().replace(microsecond=0)
    with frozen_at(asked):
        row = raise_failed_sync(admin)
    ran = asked + timedelta(minutes=12)
    seen = []
    smtp_server.on_arrival = lease_at_arrival(app, row.id, seen)
    with frozen_at(ran):
        assert delivery.deliver(row.id, asked) == SENT
    [lease_end] = seen
    assert as_utc(lease_end) == ran + delivery.LEASE


def test_a_late_send_job_that_fails_waits_its_retry_delay_from_when_it_ran(app, admin,
                                                                              smtp_server):
    asked = utcnow().replace(microsecond=0)
    with frozen_at(asked):
        row = raise_failed_sync(admin)
    smtp_server.stop()
    ran = asked + timedelta(minutes=12)
    with frozen_at(ran), pytest.raises(Exception):
        delivery.deliver(row.id, asked)
    failed = row_of(row.id)
    assert failed.status == PENDING and failed.last_error
    assert as_utc(failed.next_attempt_at) == ran + delivery.RETRY_DELAYS[0]


def test_a_recipient_the_server_refuses_is_recorded_and_the_others_get_the_mail(
        app, admin, factory, smtp_server):
    second = factory.user("second.admin@school.example", [admin.org], role="admin")
    smtp_server.refused = {second.email}
    row = raise_failed_sync(admin)
    assert delivery.deliver(row.id, utcnow()) == SENT
    [(recipients, _)] = smtp_server.wait_for(1)
    assert recipients == [admin.user.email]
    sent = row_of(row.id)
    assert sent.status == SENT
    assert sent.last_error.startswith("The mail server refused: second.admin@school.example (550")



def test_a_mail_that_cannot_be_written_says_why_on_its_row_and_waits_to_retry(app, admin,
                                                                           smtp_server):
    """Its job failed in RQ and the row kept no error: after its lease it was retried every
    ten minutes, for ever, with nothing on the row to say why (here: a payload cut off)."""
    row = raise_failed_sync(admin)
    db.session.execute(NotificationEvent.__table__.update().where(
        NotificationEvent.id == row.id).values(payload='{"run_id": 1, "reas'))
    db.session.commit()
    now = utcnow().replace(microsecond=0) + timedelta(seconds=1)
    with frozen_at(now), pytest.raises(ValueError):
        delivery.deliver(row.id, now)
    failed = row_of(row.id)
    assert failed.status == PENDING and failed.attempts == 1
    assert failed.last_error.startswith("The mail could not be written (JSONDecodeError")
    assert as_utc(failed.next_attempt_at) == now + delivery.RETRY_DELAYS[0]
    assert smtp_server.messages == []
