"""What a finished run does to its school's schedule: the retry back-off, then the emails.

Connected to user_sync's run_finished signal in init_schedule; runs after the run's outcome
is committed, in the process that finished it.
"""
from sqlalchemy import select

from webapp.clock import as_utc
from webapp.extensions import db
from webapp.microsoft import app_credentials
from webapp.microsoft.models import connection_for_organisation
from webapp.notifications import events
from webapp.orgs.models import Organisation
from webapp.schedule import due
from webapp.schedule.models import SyncSchedule
from webapp.schedule.services import next_regular_slot
from webapp.user_sync import models as m
from webapp.user_sync.signals import run_finished


def on_run_finished(run_id):
    run = db.session.get(m.SyncRun, run_id)
    if run is None or run.kind != m.KIND_SYNC:
        return
    if run.status == m.FAILED and app_credentials.refusal() is not None:
        return  # the platform's secret: no school back-off or email; the operators were told
    organisation = db.session.get(Organisation, run.organisation_id)
    schedule = db.session.scalar(select(SyncSchedule).where(
        SyncSchedule.organisation_id == run.organisation_id).with_for_update())
    previous_failures = schedule.failures if schedule is not None else 0
    if schedule is not None:
        record_outcome(schedule, organisation, run)
    db.session.commit()
    connection = connection_for_organisation(organisation)
    needs_reconnect = connection is not None and connection.needs_reconnect
    events.after_run(run, previous_failures, reconnect_reason=(
        connection.status_reason or "Microsoft no longer accepts the saved sign-in."
    ) if needs_reconnect else None)


def record_outcome(schedule, organisation, run):
    if run.status == m.COMPLETE:
        schedule.failures = 0
    elif run.status == m.FAILED and run.is_automatic and schedule.is_on:
        schedule.failures += 1
        finished = as_utc(run.finished_at)
        schedule.next_due_at = due.after_failure(
            next_regular_slot(schedule, organisation, finished), finished, schedule.failures)


def init_schedule(app):
    run_finished.connect(on_run_finished, weak=False)
    from webapp.schedule.cli import sync_cli
    app.cli.add_command(sync_cli)
