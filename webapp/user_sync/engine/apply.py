"""Applying a Plan: account resolution, then bulk writes, all inside the caller's transaction.

Each step reads what it needs from store first (accounts_of, memberships_of), then writes
(update_user_rows, insert_accounts, insert_memberships, ...): store is the one place that
knows the tables, apply the one place that knows the order."""
from sqlalchemy import bindparam, update

from webapp.extensions import db
from webapp.user_sync import models as m
from webapp.user_sync.engine.store import (
    MEMBERSHIPS, PEOPLE, accounts_of, bulk_insert, insert_accounts, insert_memberships,
    memberships_of, one_of, parts, set_status, update_people_rows, update_user_rows)


def resolve_accounts(plan, existing):
    """Settles email clashes with other platform accounts before anything is written.

    A new Microsoft account whose email belongs to someone this sync already manages, and who
    left the group, is the same person with a re-created account: relink, don't duplicate.
    An email held by any other account is skipped and reported rather than stolen.
    """
    changing = [(row, p, c) for row, p, c in plan.updates + plan.reinstates if "email" in c]
    emails = [p.email_normalised for p, _ in plan.adds] + [p.email_normalised for _, p, _ in changing]
    if not emails:
        return plan
    owners = accounts_of(emails)
    leaving = {row.user_id for row, _, _ in changing}
    _skip_taken_emails(plan, owners, leaving)
    _resolve_adds(plan, owners, leaving, {row.user_id: row for row in existing if row.user_id})
    return plan


def _skip_taken_emails(plan, owners, leaving):
    for name in ("updates", "reinstates"):
        kept = []
        for row, person, changed in getattr(plan, name):
            owner = owners.get(person.email_normalised)
            if "email" in changed and owner not in (None, row.user_id) and owner not in leaving:
                plan.skips.append((person, m.EMAIL_TAKEN, row.id))
            else:
                kept.append((row, person, changed))
        setattr(plan, name, kept)


def _resolve_adds(plan, owners, leaving, rows_by_user):
    departing = {row.id: i for i, (row, _, reason) in enumerate(plan.suspends)
                 if reason == m.LEFT_GROUP}
    coming_back = {row.id for row, _, _ in plan.reinstates}
    adds, dropped = [], set()
    for person, row_id in plan.adds:
        owner = owners.get(person.email_normalised)
        linked = rows_by_user.get(owner) if owner not in leaving else None
        if linked is None or linked.microsoft_id == person.microsoft_id:
            adds.append((person, row_id))
        elif linked.id in departing and row_id is None:
            dropped.add(departing[linked.id])
            plan.presence[linked.id] = True
            adds.append((person, linked.id))
        elif row_id is None and _left_before(linked) and linked.id not in coming_back:
            # Back with a new Microsoft account after an earlier sync suspended the old one:
            # the same person, relinked (they were skipped as "email already used" for ever).
            plan.presence[linked.id] = True
            adds.append((person, linked.id))
        else:
            plan.skips.append((person, m.EMAIL_TAKEN, row_id))
    plan.adds = adds
    plan.suspends = [s for i, s in enumerate(plan.suspends) if i not in dropped]


def _left_before(row):
    """Suspended by an earlier sync for leaving the chosen groups, and not back in them."""
    return row.status == "suspended" and not row.excluded and not row.in_group


def apply_plan(organisation_id, plan, now, previous_run_at=None, tenant_id=None):
    """Writes the plan with bulk statements; the caller commits (or rolls back) once.
    tenant_id: the Microsoft tenant the people's ids belong to, kept with each new id."""
    _apply_suspensions(plan.suspends, now, plan.excluded_by)
    changed = plan.updates + plan.reinstates
    update_user_rows([(row.user_id, p) for row, p, c in changed if c])
    update_people_rows([(row.id, p, row.membership_id) for row, p, _ in changed], now)
    set_status(MEMBERSHIPS, [row.membership_id for row, _, _ in plan.reinstates], "active", now)
    plan.linked = _apply_adds(organisation_id, plan.adds, now, plan.via, tenant_id)
    _apply_presence(plan.presence, previous_run_at or now)
    _apply_via(plan.via_changes)


def _apply_suspensions(suspends, now, excluded_by):
    """Each person keeps the reason the plan gave, and the excluded group it named."""
    set_status(MEMBERSHIPS, [row.membership_id for row, _, _ in suspends], "suspended", now)
    grouped = {}
    for row, person, reason in suspends:
        group = excluded_by.get(person.microsoft_id) if reason == m.EXCLUDED_GROUP else None
        grouped.setdefault((reason, group), []).append(row.id)
    for (reason, group), ids in grouped.items():
        set_status(PEOPLE, ids, "suspended", now, {"suspended_reason": reason,
                                                   "suspended_group": group, "suspended_at": now})


def _apply_presence(presence, last_seen):
    arrived = [row_id for row_id, present in presence.items() if present]
    departed = [row_id for row_id, present in presence.items() if not present]
    for part in parts(arrived):
        db.session.execute(update(PEOPLE).where(one_of(PEOPLE.c.id, part)).values(in_group=True))
    for part in parts(departed):
        db.session.execute(update(PEOPLE).where(one_of(PEOPLE.c.id, part))
                           .values(in_group=False, last_seen_at=last_seen))


def _apply_via(via_changes):
    """The "Synced through" column of people already held (new people get it when inserted)."""
    if via_changes:
        db.session.execute(update(PEOPLE).where(PEOPLE.c.id == bindparam("_id"))
                           .values(synced_via=bindparam("_via")),
                           [{"_id": row_id, "_via": via} for row_id, via in via_changes.items()])


def _apply_adds(organisation_id, adds, now, via, tenant_id):
    """Returns {microsoft_id: status before} of each add linked to a membership of this school
    the account already had (an undo gives that membership back as it was)."""
    if not adds:
        return {}
    people = [p for p, _ in adds]
    # Read once: the accounts that exist already, and their memberships of this school.
    accounts = accounts_of(p.email_normalised for p in people)
    memberships = memberships_of(organisation_id, set(accounts.values()))
    linked = {p.microsoft_id: memberships[accounts[p.email_normalised]][1] for p in people
              if accounts.get(p.email_normalised) in memberships}
    # Then write: accounts (existing ones take Microsoft's values), memberships, people.
    update_user_rows([(accounts[p.email_normalised], p) for p in people
                      if p.email_normalised in accounts])
    accounts.update(insert_accounts([_new_account_row(p, now) for p in people
                                     if p.email_normalised not in accounts]))
    set_status(MEMBERSHIPS, [membership_id for membership_id, status in memberships.values()
                             if status != "active"], "active", now)
    membership_ids = {user_id: membership_id
                      for user_id, (membership_id, _) in memberships.items()}
    joining = [user_id for user_id in set(accounts.values()) if user_id not in memberships]
    membership_ids.update(insert_memberships(organisation_id, joining, now))
    rows = [(p, row_id, membership_ids[accounts[p.email_normalised]]) for p, row_id in adds]
    bulk_insert(PEOPLE, [_new_person_row(organisation_id, p, membership_id, now, via, tenant_id)
                         for p, row_id, membership_id in rows if row_id is None])
    update_people_rows([(row_id, p, membership_id) for p, row_id, membership_id in rows
                        if row_id is not None], now, relink=True, tenant_id=tenant_id)
    return linked


def _new_account_row(person, now):
    return {"email": person.email, "email_normalised": person.email_normalised,
            "display_name": person.display_name, "job_title": person.job_title,
            "department": person.department, "created_at": now, "created_by_sync": True}


def _new_person_row(organisation_id, person, membership_id, now, via, tenant_id):
    return {"organisation_id": organisation_id, "microsoft_id": person.microsoft_id,
            "tenant_id": tenant_id,
            "membership_id": membership_id, "email": person.email,
            "email_normalised": person.email_normalised, "display_name": person.display_name,
            "sort_name": m.sort_name(person.display_name, person.email),
            "job_title": person.job_title, "department": person.department, "status": "active",
            "excluded": False, "in_group": True, "last_seen_at": now, "created_at": now,
            "synced_via": via.get(person.microsoft_id)}
