"""Sync this person now: one person read from Microsoft, decided by diff.decide, applied alone.

A run of its own (kind "person") holding the school's one-sync slot, so it never overlaps a
full sync, an undo or another one-person sync; run as a quick job. Nobody else is touched: the
plan holds this one person's decision (or, for someone no longer in the tenant, the same
absence rule the sync applies), and the writes, the change log with its before values, the
audit entry and the outcome commit in one transaction. Any Microsoft error, throttling past the
client's patience, or a connection that needs reconnecting fails the run with nothing changed.
"""


from webapp import audit
from webapp.audit import actions
from webapp.clock import utcnow
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.selection import gone_words, refuse_unless_syncable, saved_selection
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle, person_words
from webapp.user_sync.engine.apply import resolve_accounts
from webapp.user_sync.engine.diff import (address_key, counted_emails, decide, plan_changes,
                                          plan_of_one)
from webapp.user_sync.engine.person_lookup import (
    AmbiguousAddress, GroupsMissing, PersonNotInTenant, is_microsoft_id, look_up)
from webapp.user_sync.engine.prior import apply_with_prior_values
from webapp.user_sync.engine.queries import last_complete_run
from webapp.user_sync.engine.record import record_changes, withdraw_from_waiting_review
from webapp.user_sync.engine.queued_runs import run_row
from webapp.user_sync.engine.quick_runs import refuse_while_busy, start_quick_run
from webapp.user_sync.engine.run import (
    SyncFailed, connected, run_to_outcome, selection_of, sync_graph_client)
from webapp.user_sync.engine.store import load_existing, protected_memberships
from webapp.user_sync.people import forget_status_counts
from webapp.user_sync.settings import settings_for

SUBJECT_LIMIT = 320  # an email address's longest legal form
JOB = "jobs.sync.run_person_sync_job"
# A quick job: a few requests, patient enough for a throttling answer, never for minutes.
MAX_ATTEMPTS, MAX_TOTAL_WAIT = 4, 20.0


def start_person_sync(organisation, user, asked):
    """Queues Sync this person now; returns the run. ServiceError (nothing queued) says why not."""
    asked = _valid_subject(asked)
    connection, selection = connection_for_organisation(organisation), saved_selection(organisation)
    refuse_unless_syncable(connection, selection)
    if connection.needs_reconnect:
        raise ServiceError("Microsoft needs you to reconnect before anyone can be synced: "
                           "reconnect in Import settings. Nothing was changed.")
    refuse_while_busy(organisation.id)
    return start_quick_run(m.SyncRun(**run_row(
        organisation.id, selection.run_columns(), m.KIND_PERSON, started_by=user,
        subject=asked)), JOB, "Sync this person now")


def _valid_subject(asked):
    asked = (asked or "").strip()
    if not asked or len(asked) > SUBJECT_LIMIT or not ("@" in asked or is_microsoft_id(asked)):
        raise ServiceError(f"Type the person's email address or sign-in name (for example "
                           f"jo.bloggs@school.example), at most {SUBJECT_LIMIT} characters.")
    return asked


def run_person_sync(run_id):
    """The quick job's work; never raises for a sync problem, it records it on the run."""
    return run_to_outcome(run_id, _sync_one)


def _sync_one(run):
    organisation, connection = connected(run)
    selection = selection_of(run)
    lifecycle.report_progress(run.id, "Reading this person from Microsoft")
    found = _read_from_microsoft(connection, selection, run.subject)
    lifecycle.report_progress(run.id, "Comparing with the people already synced",
                              fetched=len(found.everyone) if found else 0, fetched_at=utcnow())
    existing = load_existing(organisation.id)
    row = _row_of(existing, found.user.id if found else None, run.subject)
    if found is None and row is not None:
        # Asked by an address Microsoft no longer has (theirs changed): the sync knows people
        # by id, so they are looked up by theirs before being taken as gone (they were once
        # suspended as "not in the group" while still in it).
        found = _read_from_microsoft(connection, selection, row.microsoft_id)
    protected = protected_memberships(organisation.id, connection)
    if found is None and row is None:
        return _finish(run, None, person_words.not_in_tenant(run.subject), None)
    plan = plan_for(found, row, existing, protected,
                    settings_for(organisation.id).include_guests, selection)
    person = found.user if found else None
    _finish(run, plan, person_words.outcome(plan, person, row, selection), row,
            connection.tenant_id, person.id if person else row.microsoft_id)


def _read_from_microsoft(connection, selection, asked):
    client = person_graph_client(connection)
    try:
        return look_up(client, selection, asked)
    except PersonNotInTenant:
        return None
    except AmbiguousAddress as many:
        raise SyncFailed(person_words.ambiguous(asked, many.count)) from None
    except GroupsMissing as missing:
        raise SyncFailed(gone_words(missing.groups).said(where="Import settings")) from None
    except Exception as error:
        raise SyncFailed(person_words.microsoft_failure(error)) from error


def person_graph_client(connection):
    return sync_graph_client(connection, max_attempts=MAX_ATTEMPTS, max_total_wait=MAX_TOTAL_WAIT)


def _row_of(existing, microsoft_id, asked):
    """Their synced_people row: by Microsoft id, else (someone gone from the tenant) by what
    was asked, an id or an address."""
    asked = (asked or "").strip().lower()
    for row in existing:
        if row.microsoft_id == microsoft_id or (microsoft_id is None and asked in (
                row.microsoft_id.lower(), row.email_normalised)):
            return row
    return None


def plan_for(found, row, existing, protected, include_guests, selection):
    """This one person's plan by the sync's own rules, email clashes settled as the sync
    settles them: what Sync this person now applies and "Why isn't this person synced?" says."""
    return resolve_accounts(_plan(found, row, protected, include_guests, selection), existing)


def _plan(found, row, protected, include_guests, selection):
    """The sync's own rules for this one person. Found in Microsoft: diff.decide with their
    memberships and everyone sharing their address; gone from the tenant: plan_changes's
    absence rule for their row, exactly what a full sync does with someone it no longer sees."""
    if found is None:
        return plan_changes([], [row], protected)
    sharing = counted_emails(found.everyone, include_guests, found.memberships,
                             selection)[address_key(found.user)]
    decision = decide(found.user, row, protected, include_guests, sharing, found.memberships,
                      selection)
    return plan_of_one(decision, row)


def _finish(run, plan, words, row, tenant_id=None, microsoft_id=None):
    """One transaction: the run's claim, the person's writes with their before values, the
    change log, a waiting review's plan for them withdrawn, the audit entry and the outcome."""
    if not lifecycle.claim_for_apply(run.id):
        db.session.rollback()
        return
    if microsoft_id is not None and withdraw_from_waiting_review(
            run.organisation_id, microsoft_id, getattr(row, "id", None)):
        words += f" {person_words.WITHDRAWN_FROM_REVIEW}"
    before = person_words.audit_values(row)
    if plan is not None and plan.has_changes:
        previous = last_complete_run(run.organisation_id)
        apply_with_prior_values(run.id, run.organisation_id, plan, utcnow(),
                                previous.finished_at if previous is not None else None,
                                tenant_id)
    if plan is not None:
        record_changes(run.id, plan)
    after_row = _row_after(run.organisation_id, plan, row)
    audit.record(actions.PERSON_SYNCED, run.organisation_id, actor=run.started_by,
                 subject_synced_person_id=getattr(after_row, "id", None),
                 subject_label=run.subject, before=before,
                 after={**person_words.audit_values(after_row), "outcome": words})
    counts = plan.counts() if plan is not None else {}
    if lifecycle.finish_run(run.id, m.COMPLETE, reason=words, counts=counts):
        forget_status_counts(run.organisation_id)


def _row_after(organisation_id, plan, row):
    microsoft_ids = [p.microsoft_id for p, _ in plan.adds] if plan is not None else []
    microsoft_id = microsoft_ids[0] if microsoft_ids else getattr(row, "microsoft_id", None)
    if microsoft_id is None:
        return None
    rows = load_existing(organisation_id, microsoft_id=microsoft_id)
    return rows[0] if rows else None
