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
    finished = as_utc(run.finished_at)
    if run.status == m.COMPLETE:
        if schedule.failures and schedule.is_on:
            # The retry still waiting was for what this sync has mended (a Sync now, say): it
            # ran all the same, a second sync for one slot, up to four hours later.
            schedule.next_due_at = next_regular_slot(schedule, organisation, finished)
        schedule.failures = 0
    elif run.status == m.FAILED and run.is_automatic and schedule.is_on:
        schedule.failures += 1
        retry = due.after_failure(next_regular_slot(schedule, organisation, finished), finished,
                                  schedule.failures)
        # Never later than it is due already: a dead run failed by the tick's own sweep, at
        # the slot it was about to claim, pushed that slot away (skipped, or till tomorrow).
        already = as_utc(schedule.next_due_at) if schedule.next_due_at else None
        schedule.next_due_at = min(retry, already) if retry and already else retry or already


def init_schedule(app):
    run_finished.connect(on_run_finished, weak=False)
    from webapp.schedule.cli import sync_cli
    app.cli.add_command(sync_cli)
