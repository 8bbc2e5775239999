"""The Schools page's actions: Sync now and Apply schedule for the selected schools.

Thin over the product's own rules: the one-sync-per-school lifecycle in bulk
(engine.batch.start_manual_runs, one transaction), the Automatic sync card's checks and apply
(schedule.services, schedule.bulk). Each selected school gets a RowResult saying what happened.
"""
from webapp.microsoft.models import RECONNECT_NEEDED
from webapp.microsoft.selection import NO_GROUP, NOT_CONNECTED
from webapp.schedule import bulk
from webapp.schedule import services as schedule
from webapp.trust import overview
from webapp.trust.actions import Outcome, RowResult, chosen_ids, gone_results
from webapp.user_sync.engine import batch

SYNC_BLOCKED = {
    NOT_CONNECTED: "Not queued: this school is not connected to Microsoft. Connect it in its "
                   "Import settings first.",
    RECONNECT_NEEDED: "Not queued: Microsoft needs reconnecting. Reconnect in the school's "
                      "Import settings first.",
    NO_GROUP: "Not queued: no group is chosen. Choose the groups to sync in the school's Import "
              "settings first.",
}
QUEUED = "Sync queued: it starts as soon as a background worker is free."
ALREADY_RUNNING = ("Not queued again: a sync of this school is already running or waiting for "
                   "a worker (one sync per school at a time).")
SCHEDULE_SAVED = "Schedule saved."
RESUMED = " Automatic sync is on again: it was paused after an undo."


def _selected(form, view, rows, action):
    """(the selected rows that still exist, the Outcome with the others' reasons)."""
    ids, results, shown_names = chosen_ids(form, view, rows)
    by_id = {row.id: row for row in rows}
    results.update(gone_results(ids, by_id))
    outcome = Outcome(action, results=results,
                      names={**shown_names, **{row.id: row.name for row in rows}})
    return [by_id[school_id] for school_id in ids if school_id in by_id], outcome


def sync_now(user, form, view, rows):
    """Queues a sync for each selected school that can sync, through the one-sync rule."""
    selected, outcome = _selected(form, view, rows, "Sync now")
    overview.add_selections(selected)  # each run carries its school's groups
    startable = {}
    for row in selected:
        if row.can_sync:
            startable[row.id] = row.selection
        else:
            outcome.results[row.id] = RowResult(False, SYNC_BLOCKED[row.state])
    started, not_queued = batch.start_manual_runs(startable, user)
    for school_id in startable:
        if school_id in started:
            outcome.results[school_id] = RowResult(True, QUEUED)
        else:
            outcome.results[school_id] = RowResult(False, not_queued.get(school_id, ALREADY_RUNNING))
    return outcome


def checked_schedule(form):
    """The Apply schedule choice checked once, by the card's rules: (frequency, minute of day,
    time zone), or ScheduleInvalid naming the control."""
    frequency, minute_of_day = schedule.checked_choice((form.get("frequency") or "").strip(),
                                                       form.get("time_of_day", ""))
    return frequency, minute_of_day, schedule.validate_time_zone(form.get("time_zone"))


def apply_schedule(user, form, view, rows, now):
    """One schedule and time zone to every selected school (checked before anything is read)."""
    frequency, minute_of_day, zone_name = checked_schedule(form)
    selected, outcome = _selected(form, view, rows, "Apply schedule")
    problems, resumed = bulk.apply_to_many({row.id: row.has_synced_group for row in selected},
                                           frequency, minute_of_day, zone_name, user, now)
    for row in selected:
        problem = problems.get(row.id)
        outcome.results[row.id] = RowResult(False, f"Not saved: {problem}") if problem \
            else RowResult(True, SCHEDULE_SAVED + (RESUMED if row.id in resumed else ""))
    return outcome
