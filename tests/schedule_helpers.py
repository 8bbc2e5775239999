"""Automatic sync for tests: save a schedule through the real form, run a tick as of a moment."""
from datetime import timedelta

from sqlalchemy import select

from harness.factory import csrf_token_from, version_for
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.schedule.models import SyncSchedule
from webapp.user_sync import models as m

HTMX = {"HX-Request": "true"}


def sync_page(school):
    return school.client.get(f"/o/{school.org.id}/settings/user-sync/")


def save_schedule(school, frequency, time_of_day="", htmx=True, time_zone=None):
    page = sync_page(school)
    url = f"/o/{school.org.id}/settings/user-sync/schedule/"
    data = {"csrf_token": csrf_token_from(page.text), "frequency": frequency,
            "time_of_day": time_of_day, "version": version_for(page.text, url)}
    if time_zone is not None:
        data["time_zone"] = time_zone
    return school.client.post(url, headers=HTMX if htmx else {}, data=data)


def schedule_of(org):
    db.session.expire_all()
    return db.session.scalar(select(SyncSchedule).where(SyncSchedule.organisation_id == org.id))


def run_tick(app, as_of):
    """`flask sync enqueue-due --as-of`, through the real command line parser."""
    result = app.test_cli_runner().invoke(args=["sync", "enqueue-due", "--as-of",
                                                as_of.isoformat()])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def run_queued_syncs(app):
    """The sync queue's jobs, with the arguments the tick gave them, run in this process as a
    worker would run them."""
    from tests.microsoft_flow import run_queued_jobs
    run_queued_jobs(app, ("sync",))
    db.session.expire_all()


def ran_as_queued(app, school):
    """The school's newest run after running the queued syncs as a worker would: on the clock
    of the tick that queued them (its --as-of), not on the real one."""
    run_queued_syncs(app)
    return runs_of(school.org)[-1]


def due_moment(org):
    """The school's next due moment, plus a second so a tick as of it finds the school due."""
    return schedule_of(org).next_due_at.replace(tzinfo=utcnow().tzinfo) + timedelta(seconds=1)


def runs_of(org):
    db.session.expire_all()
    return db.session.scalars(select(m.SyncRun).where(m.SyncRun.organisation_id == org.id)
                              .order_by(m.SyncRun.id)).all()
