"""Automatic sync when things break: two ticks at once, a tick killed mid-tick, a school
deleted or disconnected while due, a revoked token (Redis restarted between ticks: its own
module, test_schedule_redis_restart.py).
Real tick processes (the CLI), real RQ workers, PostgreSQL, Redis and the simulator."""
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from harness.app_config import worker_environment
from tests.faults.helpers import wait_for
from tests.mail_helpers import bodies
from tests.microsoft_flow import FAST_WORKER_ENV, demo
from tests.schedule_helpers import due_moment, run_tick, runs_of, save_schedule
from tests.services import POSTGRES_URL
from tests.sync_helpers import NORTHFIELD, shared_connected_school
from webapp.clock import as_utc, utcnow
from webapp.extensions import db
from webapp.microsoft.models import MicrosoftConnection
from webapp.microsoft.selection import GroupChoice
from webapp.orgs.services import create_organisation
from webapp.schedule.models import SyncSchedule
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")
ROOT = Path(__file__).resolve().parents[2]
SCHOOLS = 12


@pytest.fixture
def extra_config(smtp_server):
    return smtp_server.config()


@pytest.fixture
def school(app, factory, client, microsoft):
    """Northfield Academy, connected through its trust, Northfield Staff chosen (light)."""
    return shared_connected_school(factory, client, microsoft)


def trust_of_due_schools(school, count=SCHOOLS):
    """`count` schools of the same trust (one Microsoft connection), each due an hour ago."""
    save_schedule(school, "1h")
    for index in range(count - 1):
        org = create_organisation(f"Oak School {index:02d}", school.oak.north.trust.name)
        db.session.add(GroupChoice(organisation_id=org.id, group_id=NORTHFIELD,
                                   display_name="Northfield Staff", kind="security"))
        db.session.add(SyncSchedule(organisation_id=org.id, frequency="1h", failures=0))
    db.session.commit()
    as_of = utcnow()
    db.session.execute(SyncSchedule.__table__.update().values(
        next_due_at=as_of - timedelta(hours=1), enabled_at=as_of - timedelta(hours=2)))
    db.session.commit()
    return as_of


def tick_process(app, as_of):
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "sync", "enqueue-due", "--as-of",
         as_of.isoformat()], cwd=ROOT, env=worker_environment(app), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)


def automatic_runs_per_school():
    db.session.expire_all()
    return dict(db.session.execute(select(m.SyncRun.organisation_id, func.count()).where(
        m.SyncRun.trigger == m.TRIGGER_AUTOMATIC).group_by(m.SyncRun.organisation_id)).all())


def test_two_tick_processes_at_once_queue_each_school_exactly_once(app, school):
    as_of = trust_of_due_schools(school)
    ticks = [tick_process(app, as_of) for _ in range(2)]
    outputs = [tick.communicate(timeout=120)[0] for tick in ticks]
    assert [tick.returncode for tick in ticks] == [0, 0], outputs
    queued = sum(output.count("queued an automatic sync") for output in outputs)
    assert queued == SCHOOLS, outputs
    assert automatic_runs_per_school() == {org_id: 1 for org_id in automatic_runs_per_school()}
    assert len(automatic_runs_per_school()) == SCHOOLS


def waiting_on_a_lock(blocker):
    """True once another backend of this database waits for a row lock (the tick's claim)."""
    return blocker.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()").fetchone()[0] > 0


def test_a_tick_killed_mid_tick_loses_and_doubles_no_school(app, school):
    """Killed while claiming (one school's row is locked by someone else): the tick's claims and
    runs are one transaction, so nothing of it stays, every school is still due, and the next
    tick queues each once. (Killed after that commit: test_schedule_redis_restart.py.)"""
    as_of = trust_of_due_schools(school)
    ids = list(db.session.scalars(select(SyncSchedule.id).order_by(SyncSchedule.id)))
    name = app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1]
    with psycopg.connect(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name, autocommit=True) as watcher, \
            psycopg.connect(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name) as blocker:
        blocker.execute("SELECT 1 FROM sync_schedules WHERE id = %s FOR UPDATE", (ids[5],))
        tick = tick_process(app, as_of)  # claims the schools until it waits on the locked row
        wait_for(lambda: waiting_on_a_lock(watcher), timeout=60,
                 what="the tick to wait on the locked school")
        tick.send_signal(signal.SIGKILL)
        tick.wait(timeout=10)
        blocker.rollback()
    assert automatic_runs_per_school() == {}
    assert db.session.scalar(select(func.count()).where(
        SyncSchedule.next_due_at <= as_of)) == SCHOOLS  # every school still due
    output = run_tick(app, as_of)
    assert output.count("queued an automatic sync") == SCHOOLS, output
    assert set(automatic_runs_per_school().values()) == {1}
    assert len(automatic_runs_per_school()) == SCHOOLS


def test_a_school_deleted_or_disconnected_while_due_is_skipped_and_the_rest_run(app, school):
    as_of = trust_of_due_schools(school, count=3)
    others = [org for org in school.oak.north.trust.organisations if org.id != school.org.id]
    gone = next(org for org in others if org.name.startswith("Oak School"))
    db.session.delete(gone)
    db.session.commit()
    solo = create_organisation("Solo Primary")
    db.session.add(GroupChoice(organisation_id=solo.id, group_id=NORTHFIELD,
                               display_name="Northfield Staff", kind="security"))
    db.session.add(SyncSchedule(organisation_id=solo.id, frequency="1h", failures=0,
                                next_due_at=as_of - timedelta(minutes=5)))
    db.session.commit()  # never connected: its own connection does not exist
    output = run_tick(app, as_of)
    assert "Solo Primary: skipped, not connected to Microsoft." in output
    assert gone.name not in output and output.count("queued an automatic sync") == 2
    db.session.query(MicrosoftConnection).delete()  # the trust disconnects
    db.session.commit()
    output = run_tick(app, as_of + timedelta(hours=2))
    assert output.count("skipped, not connected to Microsoft") == 3, output


def test_a_revoked_token_sends_one_mail_pauses_and_calls_microsoft_no_more(
        app, school, microsoft, smtp_server, start_worker):
    save_schedule(school, "1h")
    microsoft.control.revoke_refresh_tokens(demo.ADMIN_UPN)
    microsoft.control.set_faults(fail_on_page=1, fail_status=401, fail_count=50)
    run_tick(app, due_moment(school.org))
    assert start_worker(FAST_WORKER_ENV, burst=True).wait(timeout=120) == 0
    failed = runs_of(school.org)[-1]
    assert failed.status == m.FAILED and "Reconnect" in failed.reason
    assert start_worker(FAST_WORKER_ENV, burst=True).wait(timeout=120) == 0  # the mail job
    (_, message), = smtp_server.wait_for(1)
    assert message["Subject"] == "Reconnect Northfield Academy to Microsoft"
    assert "paused" in bodies(message)[0]
    microsoft.control.clear_request_log()
    failed_at = as_utc(failed.finished_at)  # on the clock of the tick that queued it (--as-of)
    for hours in (1, 5, 24, 30):  # every retry slot and the next days' slots come and go
        output = run_tick(app, failed_at + timedelta(hours=hours))
        assert "paused until someone reconnects to Microsoft" in output
    assert start_worker(FAST_WORKER_ENV, burst=True).wait(timeout=120) == 0
    assert microsoft.control.request_log() == [] and len(runs_of(school.org)) == 1
    assert len(smtp_server.messages) == 1
    assert "paused until someone" in school.client.get(
        f"/o/{school.org.id}/settings/user-sync/").text
