"""The Automatic sync card's rules: saving a choice, and what "Next automatic sync" says."""
from dataclasses import dataclass

from sqlalchemy import select

from webapp import audit, versions
from webapp.audit import actions
from webapp.clock import as_utc, utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft import app_credentials
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.selection import saved_selection
from webapp.schedule import due
from webapp.schedule.models import SyncSchedule
from webapp.schedule.pause import clear_pause
from webapp.schedule_words import FREQUENCY_LABELS, format_minute_of_day
from webapp.zones import choosable_zones, first_zones, organisation_zone
from webapp.user_sync.engine import queries

# Why there is no next automatic sync, or why a tick skipped a school (codes, then words).
OFF, NO_GROUP, NOT_CONNECTED, RECONNECT, REVIEW, UNDONE = (
    "off", "no_group", "not_connected", "reconnect", "review", "undone")
RUNNING, TAKEN, GONE, QUEUE_DOWN = "running", "taken", "gone", "queue_down"
APP_CREDENTIALS = "app_credentials"  # Microsoft refuses the platform's secret: every school waits
BRIEFLY_BUSY = "briefly_busy"
REASON_WORDS = {
    OFF: "automatic sync is off",
    NO_GROUP: "no group is chosen (choose the groups to sync in Import settings)",
    NOT_CONNECTED: "not connected to Microsoft",
    RECONNECT: "paused until someone reconnects to Microsoft",
    REVIEW: "paused while a review waits (Apply removals or Cancel this sync on Manage user "
            "sync)",
    UNDONE: "paused after an admin undid a sync (Save schedule or Sync now turns it back on)",
    RUNNING: "a sync is already running or waiting for a worker",
    BRIEFLY_BUSY: "Sync this person now, an undo or a preview is running; still due, so the next tick syncs it",
    TAKEN: "already queued by another tick",
    GONE: "the school no longer exists",
    QUEUE_DOWN: "the job queue (Redis) is unreachable",
    APP_CREDENTIALS: "paused for every school: the platform's Microsoft app credentials were "
                     "refused; the platform's operators have been told, nothing to do here",
}


class ScheduleInvalid(ServiceError):
    """Bad input on the Automatic sync form; `field` is the control the message belongs to."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def schedule_for(organisation_id):
    """The saved schedule, or an unsaved Off one (reading writes nothing)."""
    found = db.session.scalar(select(SyncSchedule).where(
        SyncSchedule.organisation_id == organisation_id))
    return found or SyncSchedule(organisation_id=organisation_id, frequency=due.OFF, failures=0)


NO_GROUP_TO_SCHEDULE = ("Choose the groups to sync in Import settings before turning automatic "
                        "sync on.")


def validate_choice(organisation, frequency, time_text):
    """Returns (frequency, minute_of_day) or raises ScheduleInvalid naming the control."""
    frequency, minute_of_day = checked_choice(frequency, time_text)
    problem = selection_problem(frequency, bool(saved_selection(organisation).synced))
    if problem:
        raise ScheduleInvalid("frequency", problem)
    return frequency, minute_of_day


def checked_choice(frequency, time_text):
    """The form's part of the check, the same for one school or many: (frequency,
    minute_of_day), or ScheduleInvalid naming the control.

    The time of day is needed for Every day and read whenever it is typed; otherwise it is None
    and apply_choice keeps the school's saved one: only Every day uses it, but choosing Every
    hour must not lose the 01:30 saved for the day the school goes back to daily syncs."""
    if frequency not in due.FREQUENCIES:
        raise ScheduleInvalid("frequency", "Choose Off, Every day or one of the listed intervals.")
    minute_of_day = None
    if frequency == due.DAILY or (time_text or "").strip():
        try:
            minute_of_day = due.parse_time_of_day(time_text)
        except ValueError as error:
            raise ScheduleInvalid("time_of_day", str(error)) from None
    return frequency, minute_of_day


def selection_problem(frequency, has_synced_group):
    """The school's part: automatic sync needs a group to sync. The sentence, or None."""
    return NO_GROUP_TO_SCHEDULE if frequency != due.OFF and not has_synced_group else None


def validate_time_zone(name):
    name = (name or "").strip()
    if name not in choosable_zones():
        raise ScheduleInvalid("time_zone", "Choose the school's time zone from the list, for "
                              "example Europe/London.")
    return name


def schedule_version(organisation):
    return versions.of_organisation(organisation.id, "schedule")


def save_schedule(organisation, frequency, time_text, now=None, time_zone=None, user=None,
                  expected_version=None):
    """Validates, then saves the choice, the school's time zone (kept when not given) and the
    next due moment; nothing is saved on error. expected_version: the form's (refused with
    versions.ChangedSince if the schedule was saved since); None for callers with no form."""
    frequency, minute_of_day = validate_choice(organisation, (frequency or "").strip(), time_text)
    zone_name = organisation.time_zone if time_zone in (None, organisation.time_zone) \
        else validate_time_zone(time_zone)  # a zone saved before the list lost its old names
    versions.claim(schedule_version(organisation), expected_version, user)
    schedule = schedule_for(organisation.id)
    before, after = apply_choice(schedule, organisation, frequency, minute_of_day, zone_name,
                                 now or utcnow())
    audit.record(actions.SCHEDULE_CHANGED, organisation.id, before=before, after=after)
    db.session.commit()
    return schedule


def apply_choice(schedule, organisation, frequency, minute_of_day, zone_name, now):
    """Sets a checked choice on the school's schedule (added to the session, not committed);
    returns what the audit log keeps of it (before, after); a pause an undo made, which saving
    ends, is in both (the entry was dropped as "nothing changed", and the pause ended unsaid)."""
    before = schedule_values(schedule, organisation)
    paused_by = schedule.paused_by_run_id if schedule.paused_at is not None else None
    organisation.time_zone = zone_name
    if frequency != due.OFF and not schedule.is_on:
        schedule.enabled_at = now
    if minute_of_day is None:
        minute_of_day = schedule.minute_of_day  # kept for the day it is Every day again
    schedule.frequency, schedule.minute_of_day, schedule.failures = frequency, minute_of_day, 0
    clear_pause(schedule)  # saving the schedule is the admin turning automatic sync back on
    schedule.suggestion_answered_at = schedule.suggestion_answered_at or now
    schedule.next_due_at = next_regular_slot(schedule, organisation, now)
    db.session.add(schedule)
    after = schedule_values(schedule, organisation)
    if paused_by is not None:
        before["paused_by_run"], after["paused_by_run"] = paused_by, None
    return before, after


def schedule_values(schedule, organisation):
    """What the audit log keeps of a schedule: the admin's choice, not the computed moments."""
    return {"frequency": schedule.frequency or due.OFF, "minute_of_day": schedule.minute_of_day,
            "time_zone": organisation.time_zone}


def next_regular_slot(schedule, organisation, after):
    return due.next_slot(schedule.frequency, schedule.minute_of_day,
                         organisation_zone(organisation.time_zone), organisation.id, after)


@dataclass
class NextSync:
    at: object = None       # aware datetime in the organisation's zone, or None
    reason: str = ""         # why there is none: one of the codes above
    zone_name: str = ""
    note: object = None     # due.SlotNote: why its minute is not the one chosen (the card's)


def paused_reason(connection, has_synced_group, review_pending, platform_paused=False,
                  paused_by_undo=False):
    """The one rule for "automatic sync cannot run now" (the card and the tick both ask it).
    platform_paused: Microsoft refuses the platform's app credentials (app_credentials);
    paused_by_undo: an admin undid a sync (schedule.pause)."""
    if not has_synced_group:
        return NO_GROUP
    if connection is None:
        return NOT_CONNECTED
    if connection.needs_reconnect:
        return RECONNECT
    if platform_paused:
        return APP_CREDENTIALS
    if paused_by_undo:
        return UNDONE
    return REVIEW if review_pending else None


def next_sync(organisation, schedule=None, known=None):
    """known: what the page has already read about the school (its .connection, .selection
    and .review, as user_sync.summary's Summary has them), so they are not read again."""
    schedule = schedule or schedule_for(organisation.id)
    if not schedule.is_on:
        return next_sync_of(schedule, organisation.time_zone)
    if known is None:
        connection, selection = (connection_for_organisation(organisation),
                                 saved_selection(organisation))
        review_pending = queries.pending_review(organisation.id) is not None
    else:
        connection, selection = known.connection, known.selection
        review_pending = known.review is not None
    found = next_sync_of(schedule, organisation.time_zone, connection, bool(selection.synced),
                         review_pending, app_credentials.refusal() is not None)
    found.note = due.slot_note(schedule.frequency, schedule.minute_of_day,
                               organisation_zone(organisation.time_zone), organisation.id,
                               found.at)
    return found


def next_sync_of(schedule, time_zone_name, connection=None, has_synced_group=False,
                 review_pending=False, platform_paused=False):
    """What "Next automatic sync" says, from facts the caller has already read (the card reads
    them for one school, the Schools page for all of an admin's schools at once). schedule: a
    SyncSchedule, or a row with its frequency and next_due_at."""
    zone = organisation_zone(time_zone_name)
    if schedule.frequency == due.OFF:
        return NextSync(reason=OFF, zone_name=zone.key)
    reason = paused_reason(connection, has_synced_group, review_pending, platform_paused,
                           getattr(schedule, "paused_at", None) is not None)
    if reason or schedule.next_due_at is None:
        return NextSync(reason=reason or OFF, zone_name=zone.key)
    return NextSync(at=as_utc(schedule.next_due_at).astimezone(zone), zone_name=zone.key)


def shows_suggestion(organisation_id, schedule):
    """The one-time suggestion: after the first complete sync, while automatic sync is off,
    until the admin answers it."""
    if schedule.is_on or schedule.suggestion_answered_at is not None:
        return False
    return queries.last_complete_run(organisation_id) is not None


def answer_suggestion(organisation_id):
    schedule = schedule_for(organisation_id)
    schedule.suggestion_answered_at = schedule.suggestion_answered_at or utcnow()
    db.session.add(schedule)
    db.session.commit()


def card_context(organisation, errors=None, form=None, every_zone=False, known=None):
    """Everything templates/schedule/_card.html needs. form: what a refused post sent (shown
    again as sent, except a choice that is not in its list, shown as saved), else the saved
    choice and the version it is at. every_zone: offer every zone, not only the first few.
    known: see next_sync."""
    schedule = schedule_for(organisation.id)
    saved = {"frequency": schedule.frequency,
             "time_of_day": format_minute_of_day(schedule.minute_of_day) or "02:00",
             "time_zone": organisation_zone(organisation.time_zone).key,
             "version": versions.current(schedule_version(organisation))}
    shown = {**saved, **(form or {})}
    if shown["frequency"] not in FREQUENCY_LABELS:
        shown["frequency"] = saved["frequency"]
    shown["time_zone"] = shown_zone(organisation, shown["time_zone"])
    return {"schedule": schedule, "next_sync": next_sync(organisation, schedule, known),
            "schedule_errors": errors or {}, "schedule_form": shown,
            "frequency_labels": FREQUENCY_LABELS, "every_zone": every_zone,
            "time_zones": zone_choices(shown["time_zone"], every_zone)}


def time_zone_field_context(organisation, sent_zone=None, every_zone=False):
    """What templates/schedule/_time_zone_field.html needs when it is drawn alone (the htmx
    swap of the field): the zone shown and the zones offered, nothing of the rest of the card."""
    chosen = shown_zone(organisation, sent_zone)
    return {"schedule_form": {"time_zone": chosen}, "schedule_errors": {},
            "every_zone": every_zone, "time_zones": zone_choices(chosen, every_zone)}


def shown_zone(organisation, sent_zone=None):
    """The zone the field shows: the one sent if it is on the list, else the school's saved one
    (kept even under an old name the list no longer has)."""
    if sent_zone in choosable_zones():
        return sent_zone
    return organisation_zone(organisation.time_zone).key


def zone_choices(chosen, every_zone=False):
    """The time zones the card offers: the first few, or every one; the chosen one always."""
    if not every_zone:
        return first_zones(chosen)
    every = choosable_zones()
    return every if chosen in every else (chosen,) + every

