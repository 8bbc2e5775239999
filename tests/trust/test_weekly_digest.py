"""The weekly digest: opted into on the Notifications page, raised by the clock's job once each
admin's Monday 07:00 has passed, one mail per admin covering all their schools, received by a
real SMTP server, with the week's counts from runs made through the ordinary sync code paths;
once per admin and week."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from jobs.notifications import weekly_digest_job
from harness.factory import csrf_token_from, sign_in
from tests.mail_helpers import bodies
from tests.microsoft_flow import demo, run_quick_jobs
from tests.sync_helpers import NORTHFIELD, people
from webapp.clock import frozen_at
from webapp.extensions import db
from webapp.microsoft.selection import choose_group
from webapp.microsoft.services import graph_client_for
from webapp.notifications import events
from webapp.notifications.models import SENT, NotificationEvent
from webapp.redis_conn import get_queue
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.run import run_sync

pytestmark = pytest.mark.both_databases  # the week's counts compare times in SQL
SOUTHFIELD = demo.SOUTHFIELD_STAFF_GROUP_ID


def at(day, hour, minute=0):
    return datetime(2026, 11 if day > 20 else 12, day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def extra_config(smtp_server):
    return smtp_server.config()


def opt_in(client, org, wanted=True):
    page = client.get(f"/o/{org.id}/settings/notifications/")
    assert "Email me a weekly digest" in page.text
    form = {"csrf_token": csrf_token_from(page.text), "events": ["sync_failed"]}
    if wanted:
        form["weekly_digest"] = "1"
    answer = client.post(f"/o/{org.id}/settings/notifications/", data=form)
    assert answer.status_code == 303


def sync(school, org):
    """Sync now, run by the engine in this process."""
    run, started = lifecycle.start_run(org, school.admin)
    assert started
    return run_sync(run.id)


def test_each_admin_who_asked_gets_one_digest_of_their_schools_with_the_weeks_counts(
        app, school, microsoft, factory, smtp_server):
    north, south = school.org, school.oak.south
    choose_group(south, school.admin, SOUTHFIELD, graph_client_for(school.connection))
    head = factory.user("head@northfield.example", [north], role="admin", name="Head")
    bystander = factory.user("bursar@northfield.example", [north], role="admin")
    with frozen_at(at(29, 10)):  # the Sunday before the week: first syncs
        assert sync(school, north).added == 27 and sync(school, south).status == m.COMPLETE
    with frozen_at(at(30, 8)):  # Monday 08:00: asked after this week's 07:00, so next Monday's
        opt_in(school.client, north)
        opt_in(_signed_in(app, head), north)
        assert weekly_digest_job() == 0
    with frozen_at(at(1, 9)):  # Tuesday: two joiners and a leaver at Northfield
        for number in (1, 2):
            joiner = microsoft.control.create_user(
                userPrincipalName=f"new.starter{number}@{demo.TENANT_DOMAIN}",
                displayName=f"New Starter {number}", jobTitle="Teacher")
            microsoft.control.add_member(NORTHFIELD, joiner)
        leaver = people(north, status="active")[0]
        microsoft.control.remove_member(NORTHFIELD, leaver.microsoft_id)
        run = sync(school, north)
        assert (run.status, run.added, run.suspended) == (m.COMPLETE, 2, 1)
    with frozen_at(at(2, 9)):  # Wednesday: a leaver at Southfield
        microsoft.control.remove_member(SOUTHFIELD, people(south, status="active")[0].microsoft_id)
        assert sync(school, south).suspended == 1
    with frozen_at(at(3, 2, 5)):  # Thursday: Northfield's group is deleted, its sync fails
        microsoft.control.delete_group(NORTHFIELD)
        assert sync(school, north).status == m.FAILED
    with frozen_at(at(7, 6, 59)):  # Monday, a minute early (GMT: London is UTC in December)
        assert weekly_digest_job() == 0
    with frozen_at(at(7, 7, 1)):
        opt_in(_signed_in(app, bystander), north)  # asked after 07:00: from next week
        assert weekly_digest_job() == 2
        run_quick_jobs(app)
    mails = {tuple(recipients): message for recipients, message in smtp_server.wait_for(2)}
    assert set(mails) == {(school.admin.email,), (head.email,)}
    trust_mail = mails[(school.admin.email,)]
    assert trust_mail["Subject"] == "Weekly sync digest: 1 of 2 schools needs attention"
    text, html = bodies(trust_mail)
    assert "The week from Monday 30 Nov to Monday 7 Dec 2026, 07:00 to 07:00 (Europe/London)" in text
    assert "Northfield Academy: 2 joiners, 1 leaver, 1 failed sync." in text
    assert "Needs attention: Failing since 3 Dec 2026, 02:05 GMT." in text
    assert "Southfield Primary: 0 joiners, 1 leaver, 0 failed syncs." in text
    assert text.index("Northfield Academy") < text.index("Southfield Primary")
    assert f"https://rostersync.example.test/o/{north.id}/settings/schools/" in text
    assert f'href="https://rostersync.example.test/o/{south.id}/settings/user-sync/"' in html
    head_text, _ = bodies(mails[(head.email,)])
    assert "Northfield Academy: 2 joiners" in head_text and "Southfield" not in head_text
    assert "settings/schools" not in head_text  # one school: no Schools page to link to
    with frozen_at(at(7, 7, 6)):  # the clock's next check, a restart, a second clock: nothing
        assert weekly_digest_job() == 0
    assert get_queue("quick", app).count == 0 and len(smtp_server.messages) == 2
    db.session.expire_all()
    sent = db.session.scalars(select(NotificationEvent).where(
        NotificationEvent.event == events.WEEKLY_DIGEST)).all()
    assert len(sent) == 2 and {row.status for row in sent} == {SENT}
    assert {row.day.isoformat() for row in sent} == {"2026-12-07"}


def _signed_in(app, user):
    client = app.test_client()
    sign_in(client, user.email)
    return client
