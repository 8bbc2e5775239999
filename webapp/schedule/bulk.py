"""One schedule and time zone for many schools at once (the Schools page's Apply schedule).

The choice is checked once by the Automatic sync card's own rules (services.checked_choice,
validate_time_zone) before this is called; each school then gets the card's per-school check
(a group to sync) and the card's own apply_choice, with one audit entry per school, all in one
transaction.
"""
from sqlalchemy import select

from webapp import audit, versions
from webapp.audit import actions
from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.schedule import due
from webapp.schedule.models import SyncSchedule
from webapp.schedule.services import apply_choice, schedule_version, selection_problem


def apply_to_many(has_synced_group, frequency, minute_of_day, zone_name, user, now):
    """has_synced_group: {organisation id: bool}. Saves the checked choice for every school that
    may have it; returns ({organisation id: why it was not saved} for the others, the ids of
    the schools it took out of a pause an undo had made)."""
    ids = list(has_synced_group)
    organisations = {org.id: org for org in db.session.scalars(
        select(Organisation).where(Organisation.id.in_(ids)))}
    schedules = {schedule.organisation_id: schedule for schedule in db.session.scalars(
        select(SyncSchedule).where(SyncSchedule.organisation_id.in_(ids)))}
    problems, entries = {}, []
    for organisation_id in ids:
        problem = selection_problem(frequency, has_synced_group[organisation_id])
        if problem or organisation_id not in organisations:
            problems[organisation_id] = problem or "the school no longer exists"
            continue
        schedule = schedules.get(organisation_id) or SyncSchedule(
            organisation_id=organisation_id, frequency=due.OFF, failures=0)
        # A card open on that school since is then refused, naming this change, not overwriting it.
        versions.claim(schedule_version(organisations[organisation_id]), None, user)
        before, after = apply_choice(schedule, organisations[organisation_id], frequency,
                                     minute_of_day, zone_name, now)
        entries.append({"organisation_id": organisation_id, "before": before, "after": after})
    audit.record_many(actions.SCHEDULE_CHANGED, entries, actor=user)
    db.session.commit()
    return problems, {entry["organisation_id"] for entry in entries
                      if entry["before"].get("paused_by_run") is not None}
