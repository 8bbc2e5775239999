"""The sync engine: fetch everything, decide, then apply in one transaction or stop for review.

Plain module, no Flask request: the RQ job, the CLI, the benchmark and tests all call run_sync.
Product rule #2 lives here: nothing is written to the people tables unless the fetch of every
chosen group reached its last page, and then everything is written in one transaction.
"""
import logging
import os
import threading

from flask import current_app

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.microsoft.selection import (SYNC_MEMBERS, ChosenGroup, Selection, gone_words,
                                        quoted_names)
from webapp.microsoft.graph import (
    GraphError, GraphForbidden, GraphGaveUp, GraphNotFound, GraphUnauthorized)
from webapp.microsoft import forbidden
from webapp.microsoft.app_credentials import AppCredentialsRefused
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.services import graph_client_for
from webapp.microsoft.tokens import TokenCacheUnreadable
from webapp.orgs.models import Organisation
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.apply import resolve_accounts
from webapp.user_sync.engine.diff import needs_review, plan_changes
from webapp.user_sync.engine.fetch import GroupFetchFailed, fetch_selection
from webapp.user_sync.engine.liveness import liveness
from webapp.user_sync.engine.prior import apply_with_prior_values
from webapp.user_sync.engine.queries import last_complete_run
from webapp.user_sync.engine.record import load_plan, record_changes, rerecord_changes
from webapp.user_sync.engine.store import load_existing, protected_memberships
from webapp.user_sync.people import forget_status_counts
from webapp.user_sync.settings import settings_for

log = logging.getLogger(__name__)


WHAT_STOPPED = {m.KIND_PERSON: "sync of one person", m.KIND_UNDO: "undo"}


class SyncFailed(Exception):
    """str() is the reason shown after "Sync failed": plain words and what to do next."""


def run_sync(run_id):
    """Runs one queued run to its outcome. Never raises for a sync problem: it records it."""
    return run_to_outcome(run_id, _sync)


def _sync(run):
    if run.approved:
        _apply_reviewed(run)
    else:
        _fetch_and_decide(run)


def run_to_outcome(run_id, work):
    """The life every run's job shares (a sync, Sync this person now, an undo): claim the queued
    run, keep its liveness key fresh while work(run) runs, and record a SyncFailed or any other
    error as the run's failure, with everything work wrote rolled back."""
    if not lifecycle.mark_running(run_id, os.getpid()):
        return None  # already taken, cancelled or failed by a sweep
    run = db.session.get(m.SyncRun, run_id)
    try:
        with liveness(run_id):
            work(run)
    except SyncFailed as failure:
        db.session.rollback()
        lifecycle.finish_run(run_id, m.FAILED, reason=f"{failure} {lifecycle.NOTHING_CHANGED}")
    except Exception:
        db.session.rollback()
        log.exception("sync run %s stopped by an unexpected error", run_id)
        lifecycle.finish_run(run_id, m.FAILED, reason=(
            f"An unexpected error stopped the {WHAT_STOPPED.get(run.kind, 'sync')} "
            f"(reference: run {run_id}). "
            f"{lifecycle.NOTHING_CHANGED} Try again; if it happens again, contact support."))
    db.session.expire_all()
    return db.session.get(m.SyncRun, run_id)


def connected(run):
    """(organisation, its Microsoft connection), or SyncFailed saying to connect."""
    organisation = db.session.get(Organisation, run.organisation_id)
    connection = connection_for_organisation(organisation)
    if connection is None:
        raise SyncFailed("This organisation is not connected to Microsoft. Connect in Import settings.")
    return organisation, connection


def _fetch_and_decide(run):
    organisation, connection = connected(run)
    selection = selection_of(run)
    fetched = fetch_everyone(run, connection, selection)
    lifecycle.report_progress(run.id, "Comparing with the people already synced",
                              len(fetched.users), fetched_at=utcnow())
    settings = settings_for(organisation.id)
    existing = load_existing(organisation.id)
    plan = plan_changes(fetched.users, existing, protected_memberships(organisation.id, connection),
                        settings.include_guests, fetched.memberships, selection)
    emptied = [group for group in selection.synced if not fetched.memberships.get(group.id)]
    del fetched
    resolve_accounts(plan, existing)
    if run.kind == m.KIND_PREVIEW:
        return _finish_recorded(run, plan, m.COMPLETE)
    active = sum(1 for row in existing if row.status == "active" and not row.excluded)
    held = _review_reason(plan, active, settings, emptied)
    if held:
        return _finish_recorded(run, plan, m.NEEDS_REVIEW, reason=(
            f"{held} Nothing has been changed yet: check the list, then choose Apply removals "
            "or Cancel this sync (nobody changes)."))
    _apply_and_finish(run, plan, connection.tenant_id)


def _review_reason(plan, active, settings, emptied):
    """Why the sync must stop for an admin before it suspends anyone, or None: over the
    removal limit, or any suspension while a chosen group lists nobody at all (emptied by
    mistake, or its members hidden from us; under the limit a small group went unnoticed)."""
    if not plan.suspends:
        return None
    if needs_review(plan, active, settings.removal_threshold_percent,
                    settings.removal_threshold_minimum):
        return (f"This sync would suspend {len(plan.suspends)} of {active} synced people, "
                "more than the safety limit.")
    if emptied:
        return (f"{quoted_names(emptied)} now {'lists' if len(emptied) == 1 else 'list'} "
                f"nobody, and this sync would suspend {len(plan.suspends)} "
                f"{'person' if len(plan.suspends) == 1 else 'people'}.")
    return None


def selection_of(run):
    """The groups the run was started with (a run queued before selections: its one group)."""
    if run.selection:
        return Selection.from_json(run.selection)
    return Selection((ChosenGroup(run.group_id, run.group_name, SYNC_MEMBERS),))


def sync_graph_client(connection, token_provider=None, max_attempts=None, max_total_wait=None):
    """Graph client for a run: configured patience (a long fetch's, unless a quick run asks for
    less), and one token reused until refused."""
    config = current_app.config
    client = graph_client_for(
        connection, max_attempts=max_attempts or config["GRAPH_MAX_ATTEMPTS"],
        max_total_wait=max_total_wait or config["GRAPH_MAX_TOTAL_WAIT_SECONDS"],
        base_backoff=config["GRAPH_BASE_BACKOFF_SECONDS"],
        max_backoff=config["GRAPH_MAX_BACKOFF_SECONDS"])
    client.token_provider = token_provider or reuse_until_refused(client.token_provider)
    return client


def reuse_until_refused(token_provider):
    """Each page would otherwise cost a token-cache decrypt and an MSAL client; a 401 from
    Graph (token expired mid-sync) makes GraphClient ask again with force_refresh=True.
    Shared by the groups' fetching threads, hence the lock."""
    cached, lock = {}, threading.Lock()

    def provide(force_refresh=False):
        with lock:
            if force_refresh or "token" not in cached:
                cached["token"] = token_provider(force_refresh=force_refresh)
            return cached["token"]
    return provide


def fetch_everyone(run, connection, selection):
    """Every chosen group, complete, or SyncFailed naming the group that failed."""
    def progress(fetched, total):
        lifecycle.report_progress(run.id, phase, fetched, total)
    count = len(selection.groups)
    phase = "Fetching members from Microsoft" + (f" ({count} groups)" if count > 1 else "")
    lifecycle.report_progress(run.id, phase, 0)
    first = sync_graph_client(connection)
    clients = {group.id: sync_graph_client(connection, first.token_provider)
               for group in selection.groups}
    app = current_app._get_current_object()
    try:
        return fetch_selection(clients, selection.groups, progress, context=app.app_context)
    except GroupFetchFailed as failure:
        raise SyncFailed(_fetch_failure(failure.group, failure.error, connection)) \
            from failure.error


def _fetch_failure(group, error, connection):
    name = group.name
    if isinstance(error, AppCredentialsRefused):  # the platform's secret: the operators know
        return str(error)
    if isinstance(error, GraphNotFound):
        return gone_words([group]).said(where="Import settings")
    if isinstance(error, (ReconnectNeeded, TokenCacheUnreadable)):
        return f"{error} Reconnect to Microsoft in Import settings."
    if isinstance(error, GraphForbidden):
        refusal = forbidden.explain(connection, f'list the members of "{name}"')
        return f"{refusal.message} {refusal.fix} (See Troubleshooting.)"
    if isinstance(error, GraphUnauthorized):
        return (f'Microsoft refused to list the members of "{name}". Reconnect to Microsoft with '
                "an account allowed to read groups (see Troubleshooting).")
    if isinstance(error, GraphGaveUp):
        return (f'Microsoft was busy or unavailable for too long while listing "{name}". '
                f"{error} Try again later.")
    if isinstance(error, GraphError):
        return f'Microsoft returned an error we could not use while listing "{name}": {error}'
    if isinstance(error, ConnectionError):
        return f"Microsoft's sign-in service could not be reached ({error}). Try again later."
    raise error


def _finish_recorded(run, plan, status, reason=None):
    """Preview and review: record the plan as the run's changes; the people stay untouched."""
    record_changes(run.id, plan)
    lifecycle.finish_run(run.id, status, reason, plan.counts())


def _apply_and_finish(run, plan, tenant_id):
    """One transaction: the run's ownership check, every people write, the history, the outcome."""
    if not lifecycle.claim_for_apply(run.id):
        db.session.rollback()
        return
    previous = last_complete_run(run.organisation_id, before_id=run.id)
    previous_at = previous.finished_at if previous is not None else None
    if plan.has_changes:
        apply_with_prior_values(run.id, run.organisation_id, plan, utcnow(), previous_at,
                                tenant_id)
    record_changes(run.id, plan)
    if lifecycle.finish_run(run.id, m.COMPLETE, counts=plan.counts()):
        forget_status_counts(run.organisation_id)


def _apply_reviewed(run):
    """Apply removals: the reviewed plan, against the people as they are now, each of its
    suspensions checked with Microsoft first (a complete fetch, as any sync's): someone back in
    the groups since the review is left active (they were suspended, and a later sync
    reinstated them). The run's history is then what was applied, not what was reviewed."""
    _, connection = connected(run)
    existing = load_existing(run.organisation_id)
    protected = protected_memberships(run.organisation_id, connection)
    plan = load_plan(run.id, existing, protected)
    if plan.suspends:
        _keep_those_back_since(run, plan, connection, existing, protected)
    lifecycle.report_progress(run.id, "Applying reviewed changes")
    if not lifecycle.claim_for_apply(run.id):
        db.session.rollback()
        return
    if plan.has_changes:
        apply_with_prior_values(run.id, run.organisation_id, plan, utcnow(),
                                tenant_id=connection.tenant_id)
    rerecord_changes(run.id, plan)
    counts = {**plan.counts(), "unchanged": run.unchanged}
    if lifecycle.finish_run(run.id, m.COMPLETE, counts=counts):
        forget_status_counts(run.organisation_id)


def _keep_those_back_since(run, plan, connection, existing, protected):
    """Drops the reviewed suspensions the sync's rule no longer makes, on Microsoft's answer now."""
    selection = selection_of(run)
    fetched = fetch_everyone(run, connection, selection)
    lifecycle.report_progress(run.id, "Checking the reviewed removals", len(fetched.users),
                              fetched_at=utcnow())
    now = plan_changes(fetched.users, existing, protected,
                       settings_for(run.organisation_id).include_guests, fetched.memberships,
                       selection)
    still = {row.id for row, _, _ in now.suspends}
    plan.suspends = [s for s in plan.suspends if s[0].id in still]
