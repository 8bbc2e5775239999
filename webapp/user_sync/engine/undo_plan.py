"""What Undo this sync would do: whether a run may be undone, and to whom, person by person.

Pure reads, shared by the preview page (a GET that writes nothing) and the undo job, which
computes it again inside its transaction. Each person the run changed is compared with the
values the run's change log recorded from just before it (engine.prior):
- suspended by the run                -> reinstated;
- reinstated by the run               -> suspended again;
- added by the run                    -> suspended (never deleted: their history stays);
- name, email, title or department    -> restored to the earlier values;
- in-group flag, Synced through, Last seen only -> restored, not listed;
- erased by leaver retention since    -> cannot be restored (listed, with the reason);
- excluded by an admin since          -> left as they are (a sync never touches them either);
- included again, or removed from the school, by an admin since -> left as they are (the run
  changed only an excluded person's flags; a removed membership cannot be given back);
- to be suspended, but an admin or the connecting account -> kept, as a sync keeps them;
- added, but linked to a membership the account already had -> that membership as it was:
  left as they are if it was active (the run recorded it, or, for a run from before that was
  recorded, the membership is older than the run), suspended again if it was suspended;
- an earlier email another account has taken since -> the email they have now is kept (putting
  it back would take that account's address); the rest is restored.
"""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import aliased

from webapp.clock import as_utc, utcnow
from webapp.extensions import db
from webapp.microsoft.models import connection_for_organisation
from webapp.orgs.models import Organisation
from webapp.user_sync import models as m
from webapp.user_sync.engine.prior import current_values, has_prior_values, prior_values
from webapp.user_sync.engine.record import HIDDEN_ACTIONS, PRESENCE, VIA
from webapp.user_sync.engine.store import (
    MEMBERSHIPS, PEOPLE, accounts_of, one_of, parts, protected_memberships)

UNDO_DAYS = 30
ERASED_MARK = "[erased]"  # what the retention rule leaves in a run's history (privacy.erasure)
VISIBLE_WRITES = (m.ADD, m.UPDATE, m.REINSTATE, m.SUSPEND)
WRITING_ACTIONS = VISIBLE_WRITES + HIDDEN_ACTIONS
DETAILS = ("email", "display_name", "job_title", "department")
# Entry categories: listed on the preview in this order.
REINSTATE, SUSPEND_AGAIN, SUSPEND_ADDED, RESTORE_DETAILS = (
    "reinstate", "suspend_again", "suspend_added", "restore_details")
ERASED, EXCLUDED_SINCE, CHANGED_SINCE, EMAIL_TAKEN, KEPT, MEMBER_BEFORE, QUIET = (
    "erased", "excluded_since", "changed_since", "email_taken", "kept", "member_before", "quiet")
LISTED = (REINSTATE, SUSPEND_AGAIN, SUSPEND_ADDED, RESTORE_DETAILS, ERASED, EXCLUDED_SINCE,
          CHANGED_SINCE, EMAIL_TAKEN, KEPT, MEMBER_BEFORE)
SUSPENDING = (SUSPEND_AGAIN, SUSPEND_ADDED)
WRITES = (REINSTATE, SUSPEND_AGAIN, SUSPEND_ADDED, RESTORE_DETAILS, EMAIL_TAKEN, QUIET)


@dataclass
class UndoEntry:
    category: str
    name: str
    email: str
    person_id: int = None
    prior: object = None     # the PriorValues row the person is restored to
    current: dict = None     # the person as they are now (prior.current_values)
    details: tuple = ()      # which of DETAILS go back to their earlier value
    reason: str = None       # KEPT, MEMBER_BEFORE and CHANGED_SINCE: why (an m. reason code)
    email_kept: bool = False  # their earlier email is another account's now: it stays as it is


@dataclass
class UndoPlan:
    run: object
    entries: list = field(default_factory=list)

    def of(self, category):
        return [e for e in self.entries if e.category == category]

    def counts(self):
        counted = dict.fromkeys(LISTED + (QUIET,), 0)
        for entry in self.entries:
            counted[entry.category] += 1
        return counted

    @property
    def has_writes(self):
        return any(e.category in WRITES for e in self.entries)


def refusal(run, now=None):
    """Why this run cannot be undone (a sentence for the admin), or None if it can."""
    now = now or utcnow()
    if run.kind == m.KIND_UNDO:
        return ("An undo cannot itself be undone. Press Sync now to bring everyone back in line "
                "with Microsoft.")
    if run.kind not in m.CHANGING_KINDS:
        return "A preview changes nobody, so there is nothing to undo."
    if run.status == m.NEEDS_REVIEW:
        return "This sync is waiting for review and has changed nobody yet: choose Cancel instead."
    if run.status != m.COMPLETE or run.finished_at is None:
        return "Only a sync that finished can be undone; this one changed nobody."
    if not (run.added or run.updated or run.suspended or run.reinstated):
        return "This sync changed nobody, so there is nothing to undo."
    if as_utc(run.finished_at) < now - timedelta(days=UNDO_DAYS):
        return (f"A sync can be undone for {UNDO_DAYS} days after it finished; this one is "
                "older. Fix the groups in Microsoft, then press Sync now.")
    if _undone(run):
        return "This sync has already been undone (see Sync history)."
    if later_changing_run(run) is not None:
        return ("A later sync has changed people since this one (see Sync history), so this one "
                "can no longer be undone exactly. Only the school's most recent sync that "
                "changed anyone can be undone.")
    if _needs_prior_values(run) and not has_prior_values(run.id):
        return ("This sync ran before Undo was available: its change log does not hold the "
                "earlier values to restore.")
    return None


def _undone(run):
    """Undone already, even by an undo that changed nobody (all excluded or erased since)."""
    return db.session.scalar(select(m.SyncRun.id).where(
        m.SyncRun.organisation_id == run.organisation_id, m.SyncRun.undoes_run_id == run.id,
        m.SyncRun.status == m.COMPLETE).limit(1)) is not None


def later_changing_run(run):
    """The first run of the school that finished after this one and changed anyone, or moved a
    hidden flag (in the group, synced through) of someone this one changed: the undo writes
    those back. A flag of someone else (an excluded person leaving the group, in a run that
    shows no change) made the sync impossible to undo, for a reason nobody could see."""
    runs, later = m.SyncRun, aliased(m.SyncChange)
    this_runs_people = select(m.SyncChange.synced_person_id).where(
        m.SyncChange.run_id == run.id, m.SyncChange.synced_person_id.isnot(None))
    wrote = exists().where(later.run_id == runs.id, or_(
        later.action.in_(VISIBLE_WRITES),
        and_(later.action.in_(HIDDEN_ACTIONS), later.synced_person_id.in_(this_runs_people))))
    return db.session.scalar(select(runs).where(
        runs.organisation_id == run.organisation_id, runs.id != run.id,
        runs.kind.in_(m.CHANGING_KINDS), runs.status == m.COMPLETE,
        runs.finished_at > run.finished_at, wrote).order_by(runs.finished_at).limit(1))


def _needs_prior_values(run):
    return db.session.scalar(select(m.SyncChange.id).where(
        m.SyncChange.run_id == run.id, m.SyncChange.action.in_(WRITING_ACTIONS),
        m.SyncChange.synced_person_id.isnot(None)).limit(1)) is not None


def plan_undo(run):
    """The UndoPlan of a run that refusal() allows."""
    changes = _changes_by_person(run.id)
    priors = prior_values(run.id)
    added_ids = _ids_by_microsoft_id(run.organisation_id, [
        key for key, actions in changes.items() if isinstance(key, str)])
    person_ids = set(priors) | set(added_ids.values()) | {
        key for key in changes if isinstance(key, int)}
    now_rows = {row["synced_person_id"]: row
                for row in current_values(run.organisation_id, person_ids)}
    protected = _protected(run.organisation_id)
    person_of = {key: added_ids.get(key) if isinstance(key, str) else key for key in changes}
    older = _memberships_older_than(run, [
        now_rows[person_of[key]]["membership_id"] for key, change in changes.items()
        if change.action == m.ADD and change.reason is None and person_of[key] in now_rows])
    plan = UndoPlan(run)
    for key, change in changes.items():
        person_id = person_of[key]
        entry = _kept_if_protected(
            _entry(change, priors.get(person_id), now_rows.get(person_id), person_id), protected)
        plan.entries.append(_left_if_member_before(entry, change, older))
    _keep_taken_emails(plan.entries)
    plan.entries.sort(key=lambda e: (LISTED + (QUIET,)).index(e.category))
    return plan


def _protected(organisation_id):
    organisation = db.session.get(Organisation, organisation_id)
    return protected_memberships(organisation_id, connection_for_organisation(organisation))


def _kept_if_protected(entry, protected):
    """The sync's own rule: admins and the connecting account are never suspended, so an undo
    never locks them out either (say, the admin whose account the first sync linked)."""
    membership_id = (entry.current or {}).get("membership_id")
    if entry.category not in SUSPENDING or membership_id not in protected:
        return entry
    return UndoEntry(KEPT, entry.name, entry.email, entry.person_id, entry.prior, entry.current,
                     reason=protected[membership_id])


def _left_if_member_before(entry, change, older):
    """Added by the run, but to a membership the account already had, active: the undo leaves
    it (and their row) as they are. A run from before adds recorded it (change.reason None):
    the membership's age tells it predates the run, and leaving it never takes access away."""
    if entry.category != SUSPEND_ADDED:
        return entry
    if change.reason == m.LINKED_MEMBER or (
            change.reason is None and entry.current["membership_id"] in older):
        return UndoEntry(MEMBER_BEFORE, entry.name, entry.email, entry.person_id, None,
                         entry.current, reason=m.MEMBER_BEFORE)
    return entry


def _keep_taken_emails(entries):
    """An earlier email that another platform account has taken since stays as it is now:
    putting it back would take that account's address (a unique one)."""
    restoring = [e for e in entries if e.category in WRITES and e.prior is not None
                 and e.prior.user_id and (e.prior.user_email_normalised
                                          != e.current["user_email_normalised"])]
    owners = accounts_of(e.prior.user_email_normalised for e in restoring)
    for entry in restoring:
        if owners.get(entry.prior.user_email_normalised) in (None, entry.prior.user_id):
            continue
        entry.email_kept = True
        entry.details = tuple(f for f in entry.details if f != "email")
        if entry.category in (RESTORE_DETAILS, QUIET) and not entry.details:
            entry.category = EMAIL_TAKEN


def _memberships_older_than(run, membership_ids):
    """Those of these memberships created before the run began to apply."""
    began = run.applying_at or run.started_at or run.created_at
    wanted = [i for i in membership_ids if i is not None]
    older = set()
    for part in parts(wanted):
        older.update(i for i, created in db.session.execute(select(
            MEMBERSHIPS.c.id, MEMBERSHIPS.c.created_at).where(one_of(MEMBERSHIPS.c.id, part)))
            if as_utc(created) < as_utc(began))
    return older


def _changes_by_person(run_id):
    """{synced person id, or Microsoft id for someone the run created: their change row},
    keeping the most telling action (an add or status change over a flag change)."""
    rank = {m.ADD: 0, m.SUSPEND: 1, m.REINSTATE: 1, m.UPDATE: 2, PRESENCE: 3, VIA: 3}
    found = defaultdict(list)
    for change in db.session.scalars(select(m.SyncChange).where(
            m.SyncChange.run_id == run_id, m.SyncChange.action.in_(WRITING_ACTIONS))):
        key = change.synced_person_id if change.synced_person_id is not None \
            else change.microsoft_id
        found[key].append(change)
    return {key: min(rows, key=lambda c: rank[c.action]) for key, rows in found.items()}


def _ids_by_microsoft_id(organisation_id, microsoft_ids):
    found = {}
    wanted = [i for i in microsoft_ids if i and i != ERASED_MARK]
    for part in parts(wanted):
        found.update(db.session.execute(select(PEOPLE.c.microsoft_id, PEOPLE.c.id).where(
            PEOPLE.c.organisation_id == organisation_id, one_of(PEOPLE.c.microsoft_id, part))).all())
    return found


def _entry(change, prior, now, person_id):
    name = (now or {}).get("display_name") or change.display_name or ""
    email = (now or {}).get("email") or change.email or ""
    if change.microsoft_id == ERASED_MARK or getattr(prior, "microsoft_id", None) == ERASED_MARK:
        return UndoEntry(ERASED, change.display_name or "", change.email or "", person_id)
    if now is None:  # not erased: included again, never synced (people.set_excluded deletes it)
        return UndoEntry(CHANGED_SINCE, name, email, person_id, reason=m.INCLUDED_SINCE)
    if now["status"] == "excluded" and getattr(prior, "status", None) != "excluded":
        return UndoEntry(EXCLUDED_SINCE, name, email, person_id, prior, now)
    changed_since = _changed_by_an_admin_since(prior, now)
    if changed_since is not None:
        return UndoEntry(CHANGED_SINCE, name, email, person_id, prior, now, reason=changed_since)
    if change.action == m.ADD:
        category = SUSPEND_ADDED if now["status"] == "active" else QUIET
        return UndoEntry(category, name, email, person_id, None, now)
    if prior is None:  # recorded before this feature: nothing to restore to
        return UndoEntry(QUIET, name, email, person_id, None, now)
    details = tuple(f for f in DETAILS if (getattr(prior, f) or None) != (now[f] or None))
    return UndoEntry(_category(prior, now, details), name, email, person_id, prior, now, details)


def _changed_by_an_admin_since(prior, now):
    """m.INCLUDED_SINCE, m.REMOVED_SINCE or None: what an admin did since that the undo must
    not write over (their excluded status back, or an Active row without a membership)."""
    if prior is None:
        return None
    if prior.status == "excluded" and now["status"] != "excluded":
        return m.INCLUDED_SINCE
    if prior.membership_id is not None and now["membership_id"] is None:
        return m.REMOVED_SINCE
    return None


def _category(prior, now, details):
    if prior.status == "active" and now["status"] != "active":
        return REINSTATE
    if prior.status != "active" and now["status"] == "active":
        return SUSPEND_AGAIN
    return RESTORE_DETAILS if details else QUIET
