"""The before half of a run's change log: each person as they were just before the run wrote.

Read inside the apply transaction, immediately before the writes (so a reviewed run applied days
after its review records the people as they were when it applied), and copied into
sync_prior_values with one bulk insert. Undo this sync restores people from these rows.
"""
from sqlalchemy import select

from webapp.extensions import db
from webapp.user_sync import models as m
from webapp.user_sync.engine.apply import apply_plan
from webapp.user_sync.engine.store import MEMBERSHIPS, PEOPLE, USERS, bulk_insert, one_of, parts

PRIOR = m.PriorValues.__table__
PERSON_COLUMNS = ("microsoft_id", "membership_id", "email", "email_normalised", "display_name",
                  "job_title", "department", "status", "in_group", "last_seen_at", "synced_via",
                  "suspended_reason", "suspended_group", "suspended_at")
USER_COLUMNS = ("email", "email_normalised", "display_name", "job_title", "department")


def apply_with_prior_values(run_id, organisation_id, plan, now, previous_run_at=None,
                            tenant_id=None):
    """apply_plan, having first recorded everyone it is about to change (same transaction)."""
    record_prior_values(run_id, organisation_id, touched_people(plan))
    apply_plan(organisation_id, plan, now, previous_run_at, tenant_id)


def touched_people(plan):
    """Ids of the synced_people rows the plan writes to (new people have no row yet)."""
    ids = {row.id for row, _, _ in plan.updates + plan.reinstates + plan.suspends}
    ids.update(row_id for _, row_id in plan.adds if row_id is not None)
    ids.update(plan.presence)
    ids.update(plan.via_changes)
    return ids


def current_values(organisation_id, person_ids):
    """The rows as they are now, with their membership's status and their account's fields."""
    columns = [PEOPLE.c.id.label("synced_person_id")]
    columns += [PEOPLE.c[name] for name in PERSON_COLUMNS]
    columns += [MEMBERSHIPS.c.status.label("membership_status"), MEMBERSHIPS.c.user_id]
    columns += [USERS.c[name].label(f"user_{name}") for name in USER_COLUMNS]
    joined = (PEOPLE.outerjoin(MEMBERSHIPS, MEMBERSHIPS.c.id == PEOPLE.c.membership_id)
              .outerjoin(USERS, USERS.c.id == MEMBERSHIPS.c.user_id))
    found = []
    for part in parts(sorted(person_ids)):
        found += db.session.execute(select(*columns).select_from(joined).where(
            PEOPLE.c.organisation_id == organisation_id, one_of(PEOPLE.c.id, part))).mappings().all()
    return found


def record_prior_values(run_id, organisation_id, person_ids):
    if person_ids:
        bulk_insert(PRIOR, [{"run_id": run_id, **row}
                            for row in current_values(organisation_id, person_ids)])


def prior_values(run_id):
    """{synced_person_id: PriorValues row} of a run."""
    return {row.synced_person_id: row for row in db.session.execute(
        select(PRIOR).where(PRIOR.c.run_id == run_id))}


def has_prior_values(run_id):
    return db.session.scalar(select(PRIOR.c.id).where(PRIOR.c.run_id == run_id).limit(1)) \
        is not None
