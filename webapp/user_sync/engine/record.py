"""A run's changes as sync_changes rows: its history, and for a run in review, its plan."""
from sqlalchemy import delete, or_, select, update

from webapp.auth.models import normalise_email
from webapp.extensions import db
from webapp.user_sync import models as m
from webapp.user_sync.engine.diff import Person, Plan
from webapp.user_sync.engine.store import bulk_insert

PRESENCE = "presence"  # an in-group flag change; kept for replaying a plan, not shown as a change
VIA = "via"  # a new "Synced through" for someone already held; likewise not shown
HIDDEN_ACTIONS = (PRESENCE, VIA)


def _row(run_id, action, person, reason=None, person_id=None, detail=None):
    return {"run_id": run_id, "action": action, "reason": reason, "synced_person_id": person_id,
            "microsoft_id": person.microsoft_id, "email": person.email,
            "display_name": person.display_name, "job_title": person.job_title,
            "department": person.department, "detail": detail}


def change_rows(run_id, plan):
    rows = [_row(run_id, m.ADD, p, _linked_reason(plan.linked.get(p.microsoft_id)), row_id,
                 plan.via.get(p.microsoft_id)) for p, row_id in plan.adds]
    rows += [_row(run_id, m.UPDATE, p, person_id=r.id, detail=",".join(c))
             for r, p, c in plan.updates]
    rows += [_row(run_id, m.REINSTATE, p, person_id=r.id, detail=",".join(c))
             for r, p, c in plan.reinstates]
    rows += [_row(run_id, m.SUSPEND, p, reason, r.id, plan.excluded_by.get(p.microsoft_id))
             for r, p, reason in plan.suspends]
    rows += [_row(run_id, m.SKIP, p, reason, row_id, _skip_detail(plan, p, reason))
             for p, reason, row_id in plan.skips]
    rows += [_row(run_id, m.KEEP, p, reason, r.id) for r, p, reason in plan.keeps]
    nobody = Person("", None, None, None, None, None)
    rows += [_row(run_id, PRESENCE, nobody, person_id=row_id, detail="in" if present else "out")
             for row_id, present in plan.presence.items()]
    rows += [_row(run_id, VIA, nobody, person_id=row_id, detail=via)
             for row_id, via in plan.via_changes.items()]
    return rows


def _linked_reason(status):
    """An applied add's membership as it was before (status, from plan.linked): LINKED_MEMBER
    or LINKED_SUSPENDED; None when the run created it (or has not applied: a preview, a review)."""
    if status is None:
        return None
    return m.LINKED_MEMBER if status == "active" else m.LINKED_SUSPENDED


def rerecord_changes(run_id, plan):
    """A reviewed run, applied: its history becomes the plan applied (people excluded, made an
    admin or back in the groups since the review are not in it; adds carry the memberships
    they linked to), replacing the plan it was reviewed with."""
    table = m.SyncChange.__table__
    db.session.execute(delete(table).where(table.c.run_id == run_id))
    record_changes(run_id, plan)


def _skip_detail(plan, person, reason):
    """The excluded group's name; for a person Microsoft named by id alone, that id."""
    if reason == m.LIMITED_INFO:
        return person.microsoft_id
    return plan.excluded_by.get(person.microsoft_id)


def record_changes(run_id, plan):
    bulk_insert(m.SyncChange.__table__, change_rows(run_id, plan))


def load_plan(run_id, existing, protected=None):
    """Rebuilds a reviewed run's plan against the people as they are now.

    People an admin excluded since the review are left alone, someone the review would add who
    is held since (Sync this person now, or excluded from a preview) is not added again, and
    someone protected since (made an admin; protected: protected_memberships, as now) is kept,
    not suspended.
    """
    by_id = {row.id: row for row in existing}
    held = {row.microsoft_id for row in existing}
    plan = Plan()
    table = m.SyncChange.__table__
    for change in db.session.execute(select(table).where(table.c.run_id == run_id)
                                     .order_by(table.c.id)):
        _replay(plan, change, by_id, held, protected or {})
    return plan


def _replay(plan, change, by_id, held, protected):
    person = Person(change.microsoft_id, change.email or "", normalise_email(change.email or ""),
                    change.display_name or "", change.job_title, change.department)
    row = by_id.get(change.synced_person_id)
    if row is not None and row.excluded and change.action != m.SKIP:
        return
    if change.action == m.ADD and row is None and change.microsoft_id in held:
        return
    if change.action == m.ADD:
        plan.via[person.microsoft_id] = change.detail
        plan.adds.append((person, change.synced_person_id if row is not None else None))
    elif change.action in (m.UPDATE, m.REINSTATE) and row is not None:
        target = plan.updates if change.action == m.UPDATE else plan.reinstates
        target.append((row, person, tuple(filter(None, (change.detail or "").split(",")))))
    elif change.action == m.SUSPEND and row is not None and row.status == "active":
        _replay_excluding_group(plan, change)
        if row.membership_id in protected:
            plan.keeps.append((row, person, protected[row.membership_id]))
        else:
            plan.suspends.append((row, person, change.reason))
    elif change.action == m.SKIP:
        _replay_excluding_group(plan, change)
        plan.skips.append((person, change.reason, change.synced_person_id))
    elif change.action == m.KEEP and row is not None:
        plan.keeps.append((row, person, change.reason))
    elif change.action == PRESENCE and row is not None:
        plan.presence[row.id] = change.detail == "in"
    elif change.action == VIA and row is not None:
        plan.via_changes[row.id] = change.detail


def _replay_excluding_group(plan, change):
    """The excluded group a suspension or skip named (kept in the change's detail)."""
    if change.reason == m.EXCLUDED_GROUP and change.detail:
        plan.excluded_by[change.microsoft_id] = change.detail


# A change withdrawn from a waiting review, and the run's count it was part of.
COUNTED_AS = {m.ADD: "added", m.UPDATE: "updated", m.SUSPEND: "suspended",
              m.REINSTATE: "reinstated", m.SKIP: "skipped"}


def withdraw_from_waiting_review(organisation_id, microsoft_id, synced_person_id):
    """Sync this person now has just decided this person: a review still waiting plans from
    what Microsoft said before, so its changes for them are taken out, in the caller's
    transaction (else Apply removals suspended someone just found in the group). Returns
    whether it planned a change for them that an admin sees."""
    runs = m.SyncRun.__table__
    review_ids = db.session.scalars(
        select(runs.c.id).where(runs.c.organisation_id == organisation_id,
                                runs.c.status == m.NEEDS_REVIEW).with_for_update()).all()
    if not review_ids:
        return False
    table = m.SyncChange.__table__
    theirs = [table.c.microsoft_id == microsoft_id]
    if synced_person_id is not None:
        theirs.append(table.c.synced_person_id == synced_person_id)
    withdrawn = db.session.execute(
        delete(table).where(table.c.run_id.in_(review_ids), or_(*theirs))
        .returning(table.c.run_id, table.c.action)).all()
    counted = [(run_id, COUNTED_AS[action]) for run_id, action in withdrawn
               if action in COUNTED_AS]
    for run_id, count in counted:
        db.session.execute(update(runs).where(runs.c.id == run_id)
                           .values({count: runs.c[count] - 1}))
    return bool(counted)
