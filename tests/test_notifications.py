"""Emails that need a person: raised by automatic runs and by the tick, sent by a real worker
to a real SMTP server on loopback, once per school, event and day; the Notifications page."""
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from harness.factory import csrf_token_from
from harness.processes import output_of
from tests.microsoft_flow import FAST_WORKER_ENV, run_quick_jobs
from tests.schedule_helpers import (due_moment, ran_as_queued, run_tick, runs_of,
                                    save_schedule)
from tests.mail_helpers import bodies
from tests.sync_helpers import NORTHFIELD, sync_in_process
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.notifications import events
from webapp.notifications.models import PENDING, SENT, NotificationEvent
from webapp.orgs.services import add_membership, get_or_create_user
from webapp.user_sync import models as m

OPERATIONS = "ops@platform.test"
WORKER_ENV = {"OPERATIONS_EMAIL": OPERATIONS, **FAST_WORKER_ENV}


@pytest.fixture
def extra_config(smtp_server):
    return {**smtp_server.config(), "OPERATIONS_EMAIL": [OPERATIONS]}


def events_of(event=None):
    db.session.expire_all()
    stmt = select(NotificationEvent).order_by(NotificationEvent.id)
    if event:
        stmt = stmt.where(NotificationEvent.event == event)
    return db.session.scalars(stmt).all()


def send_queued_mail(app):
    """The quick queue's email jobs, run in this process (the first test uses a real worker)."""
    run_quick_jobs(app)


def fail_an_automatic_sync(app, school, microsoft, as_of=None):
    save_schedule(school, "1h")
    microsoft.control.delete_group(NORTHFIELD)
    run_tick(app, as_of or due_moment(school.org))
    # As a worker runs it: on the tick's clock (the job's --as-of). Run on the real clock, a
    # failure a minute before the school's slot made that same slot "the next regular time".
    run = ran_as_queued(app, school)
    assert run.status == m.FAILED and run.trigger == m.TRIGGER_AUTOMATIC
    return run


def test_a_failed_automatic_sync_mails_the_schools_admins_once(app, school, microsoft,
                                                                smtp_server, start_worker):
    run = fail_an_automatic_sync(app, school, microsoft)
    worker = start_worker(WORKER_ENV, burst=True)  # a real worker process sends it, for once
    assert worker.wait(timeout=120) == 0, output_of(worker)
    (recipients, message), = smtp_server.wait_for(1)
    assert recipients == [school.admin.email]
    assert message["Subject"] == "Automatic sync failed for Northfield Academy"
    text, html = bodies(message)
    assert "no longer exists in Microsoft" in text and "Nothing was changed" in text
    link = f"https://rostersync.example.test/o/{school.org.id}/settings/user-sync/"
    assert link in text and f'href="{link}"' in html
    assert app.config["MICROSOFT_CLIENT_SECRET"] not in message.as_string()
    # The 15-minute retry fails the same way: the same reason the same day is not mailed again.
    retry = runs_of(school.org)[-1].finished_at + timedelta(minutes=16)
    run_tick(app, retry)
    assert ran_as_queued(app, school).status == m.FAILED
    send_queued_mail(app)
    assert len(smtp_server.messages) == 1 and len(events_of(events.SYNC_FAILED)) == 1
    assert runs_of(school.org)[-1].id != run.id


def test_dedupe_is_by_school_event_and_day_and_a_new_reason_is_news(app, school):
    org, today = school.org.id, date(2026, 5, 1)
    first = events.raise_event(org, events.SYNC_FAILED, "sync_failed:" + events.reason_digest(
        "Group gone (run 4)."), today, {})
    assert first is not None
    assert events.raise_event(org, events.SYNC_FAILED, "sync_failed:" + events.reason_digest(
        "Group gone (run 5)."), today, {}) is None  # same reason, another run number
    assert events.raise_event(org, events.SYNC_FAILED, "sync_failed:" + events.reason_digest(
        "Microsoft was busy."), today, {}) is not None
    assert events.raise_event(org, events.SYNC_FAILED, first.dedupe_key,
                              today + timedelta(days=1), {}) is not None  # the daily reminder


def test_needs_review_mail_gives_the_counts_and_escapes_a_hostile_school_name(
        app, school, microsoft, smtp_server):
    from tests.sync_helpers import people
    from webapp.user_sync.settings import save_settings
    sync_in_process(school)
    school.org.name = '<img src=x onerror=alert(1)> & "Northfield"'
    db.session.commit()
    save_settings(school.org.id, False, 1, 1)  # more than one removal needs review
    for leaver in people(school.org, status="active")[:2]:
        microsoft.control.remove_member(NORTHFIELD, leaver.microsoft_id)
    save_schedule(school, "2h")
    run_tick(app, due_moment(school.org))
    assert ran_as_queued(app, school).status == m.NEEDS_REVIEW
    send_queued_mail(app)
    (_, message), = smtp_server.wait_for(1)
    text, html = bodies(message)
    assert "would suspend 2 people" in text and "Apply removals" in text
    assert "Why: This sync would suspend 2 of " in text and "more than the safety limit." in text
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt; &amp; &#34;Northfield&#34;" in html


def test_mail_server_down_then_back_the_mail_arrives_once_and_the_sync_is_untouched(
        app, school, microsoft, smtp_server):
    smtp_server.stop()
    run = fail_an_automatic_sync(app, school, microsoft)
    send_queued_mail(app)  # the job fails: recorded, logged, retried later
    row, = events_of(events.SYNC_FAILED)
    assert row.status == PENDING and row.attempts == 1 and "Connection" in row.last_error
    smtp_server.start()
    later = row.next_attempt_at.replace(tzinfo=utcnow().tzinfo) + timedelta(seconds=1)
    run_tick(app, later)
    send_queued_mail(app)
    smtp_server.wait_for(1)
    run_tick(app, later + timedelta(hours=2))
    send_queued_mail(app)
    assert len(smtp_server.messages) == 1 and events_of(events.SYNC_FAILED)[0].status == SENT
    assert db.session.get(m.SyncRun, run.id).status == m.FAILED  # as recorded before any mail


def test_an_admin_can_turn_one_kind_of_email_off_for_themselves(app, school, microsoft,
                                                                 smtp_server):
    colleague = get_or_create_user("deputy@northfield.example", "Deputy Head")
    add_membership(colleague, school.org, role="admin")
    db.session.commit()
    page = school.client.get(f"/o/{school.org.id}/settings/notifications/")
    assert "Save notifications" in page.text and "not configured" not in page.text
    assert 'id="event-sync_failed" type="checkbox" name="events" value="sync_failed" checked' in page.text
    kept = [code for code in events.ADMIN_EVENTS if code != events.SYNC_FAILED]
    school.client.post(f"/o/{school.org.id}/settings/notifications/",
                       data={"csrf_token": csrf_token_from(page.text), "events": kept})
    page = school.client.get(f"/o/{school.org.id}/settings/notifications/")
    assert 'value="sync_failed" >' in page.text or 'value="sync_failed" checked' not in page.text
    fail_an_automatic_sync(app, school, microsoft)
    send_queued_mail(app)
    (recipients, _), = smtp_server.wait_for(1)
    assert recipients == ["deputy@northfield.example"]


def test_no_successful_sync_for_48_hours_and_recovery_are_mailed(app, school, microsoft,
                                                                  smtp_server):
    fail_an_automatic_sync(app, school, microsoft)
    from webapp.schedule.services import schedule_for
    schedule = schedule_for(school.org.id)
    schedule.enabled_at = utcnow() - timedelta(hours=49)
    db.session.commit()
    run_tick(app, utcnow())
    run_tick(app, utcnow() + timedelta(minutes=1))
    assert len(events_of(events.NO_RECENT_SUCCESS)) == 1
    microsoft.control.reset()  # the group is back
    run = sync_in_process(school)
    assert run.status == m.COMPLETE
    send_queued_mail(app)
    subjects = sorted(message["Subject"] for _, message in smtp_server.wait_for(3))
    assert subjects == ["Automatic sync failed for Northfield Academy",
                        "Northfield Academy has not synced for 48 hours",
                        "Northfield Academy is syncing again"]


def test_the_dedupe_day_is_the_schools_own_date_not_utcs(app, school, microsoft):
    """00:30 BST on 2 July is 23:30 UTC on 1 July: one '48 hours' event for the school's
    2 July, and a tick at noon that day raises no second one (a UTC day would)."""
    save_schedule(school, "1h")
    from webapp.schedule.services import schedule_for
    schedule = schedule_for(school.org.id)
    schedule.enabled_at = utcnow().replace(year=2026, month=6, day=1)
    db.session.commit()
    late_evening_utc = utcnow().replace(year=2026, month=7, day=1, hour=23, minute=30)
    run_tick(app, late_evening_utc)
    run_tick(app, late_evening_utc + timedelta(hours=12, minutes=30))
    assert [event.day for event in events_of(events.NO_RECENT_SUCCESS)] == [date(2026, 7, 2)]


def test_the_client_secret_expiry_warning_goes_to_the_operators(app, school, smtp_server):
    expires = (utcnow() + timedelta(days=5)).date()
    app.config["MICROSOFT_CLIENT_SECRET_EXPIRES"] = expires.isoformat()
    run_tick(app, utcnow())
    run_tick(app, utcnow() + timedelta(minutes=5))
    send_queued_mail(app)
    (recipients, message), = smtp_server.wait_for(1)
    assert recipients == [OPERATIONS] and "client secret" in message["Subject"]
    assert f"{expires:%-d %b %Y}" in bodies(message)[0]  # the one date format (webapp.dates)
    assert app.config["MICROSOFT_CLIENT_SECRET"] not in message.as_string()
    assert json.loads(events_of(events.SECRET_EXPIRY)[0].payload)["message"]
