"""The sync engine: fetch everything, decide, then apply in one transaction or stop for review.

Plain module, no Flask request: the RQ job, the CLI, the benchmark and tests all call run_sync.
Product rule #2 lives here: nothing is written to the people tables unless the fetch reached
the last page, and then everything is written in one transaction.
"""
import logging
import os
import time

from flask import current_app

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.microsoft.graph import (
    GraphError, GraphForbidden, GraphGaveUp, GraphNotFound, GraphUnauthorized)
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.services import graph_client_for
from webapp.microsoft.tokens import TokenCacheUnreadable
from webapp.orgs.models import Organisation
from webapp.user_sync import models as m
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.engine.apply import apply_plan, resolve_accounts
from webapp.user_sync.engine.diff import needs_review, plan_changes
from webapp.user_sync.engine.fetch import fetch_group_users
from webapp.user_sync.engine.liveness import liveness
from webapp.user_sync.engine.queries import last_complete_run
from webapp.user_sync.engine.record import load_plan, record_changes
from webapp.user_sync.engine.store import load_existing, protected_memberships
from webapp.user_sync.people import forget_status_counts
from webapp.user_sync.settings import settings_for

log = logging.getLogger(__name__)


class SyncFailed(Exception):
    """str() is the reason shown after "Sync failed": plain words and what to do next."""


def run_sync(run_id):
    """Runs one queued run to its outcome. Never raises for a sync problem: it records it."""
    if not lifecycle.mark_running(run_id, os.getpid()):
        return None  # already taken, cancelled or failed by a sweep
    run = db.session.get(m.SyncRun, run_id)
    try:
        with liveness(run_id):
            if run.approved:
                _apply_reviewed(run)
            else:
                _fetch_and_decide(run)
    except SyncFailed as failure:
        db.session.rollback()
        lifecycle.finish_run(run_id, m.FAILED, reason=f"{failure} {lifecycle.NOTHING_CHANGED}")
    except Exception:
        db.session.rollback()
        log.exception("sync run %s stopped by an unexpected error", run_id)
        lifecycle.finish_run(run_id, m.FAILED, reason=(
            f"An unexpected error stopped the sync (reference: run {run_id}). "
            f"{lifecycle.NOTHING_CHANGED} Try again; if it happens again, contact support."))
    db.session.expire_all()
    return db.session.get(m.SyncRun, run_id)


def _fetch_and_decide(run):
    organisation = db.session.get(Organisation, run.organisation_id)
    connection = connection_for_organisation(organisation)
    if connection is None:
        raise SyncFailed("This organisation is not connected to Microsoft. Connect in Import settings.")
    fetched = fetch_everyone(run, connection)
    lifecycle.report_progress(run.id, "Comparing with the people already synced", len(fetched),
                         fetched_at=utcnow())
    settings = settings_for(organisation.id)
    existing = load_existing(organisation.id)
    plan = plan_changes(fetched, existing, protected_memberships(organisation.id, connection),
                        settings.include_guests)
    del fetched
    resolve_accounts(plan, existing)
    if run.kind == m.KIND_PREVIEW:
        return _finish_recorded(run, plan, m.COMPLETE)
    active = sum(1 for row in existing if row.status == "active" and not row.excluded)
    if needs_review(plan, active, settings.removal_threshold_percent,
                    settings.removal_threshold_minimum):
        return _finish_recorded(run, plan, m.NEEDS_REVIEW, reason=(
            f"This sync would suspend {len(plan.suspends)} of {active} synced people, more than "
            f"the safety limit. Nothing has been changed yet: check the list, then choose "
            f"Apply removals or Cancel."))
    _apply_and_finish(run, plan)


def sync_graph_client(connection):
    """Graph client for a long fetch: configured patience, and one token reused until refused."""
    config = current_app.config
    client = graph_client_for(connection, max_attempts=config["GRAPH_MAX_ATTEMPTS"],
                              max_total_wait=config["GRAPH_MAX_TOTAL_WAIT_SECONDS"],
                              base_backoff=config["GRAPH_BASE_BACKOFF_SECONDS"])
    client.token_provider = reuse_until_refused(client.token_provider)
    return client


def reuse_until_refused(token_provider):
    """Each page would otherwise cost a token-cache decrypt and an MSAL client; a 401 from
    Graph (token expired mid-sync) makes GraphClient ask again with force_refresh=True."""
    cached = {}

    def provide(force_refresh=False):
        if force_refresh or "token" not in cached:
            cached["token"] = token_provider(force_refresh=force_refresh)
        return cached["token"]
    return provide


def fetch_everyone(run, connection):
    last = {"at": 0.0}

    def progress(fetched, total):
        # A commit per page would cost more than the page on SQLite: twice a second is plenty.
        if time.monotonic() - last["at"] >= 0.5:
            last["at"] = time.monotonic()
            lifecycle.report_progress(run.id, "Fetching members from Microsoft", fetched, total)
    lifecycle.report_progress(run.id, "Fetching members from Microsoft", 0)
    try:
        users, _ = fetch_group_users(sync_graph_client(connection), run.group_id, progress)
    except GraphNotFound:
        raise SyncFailed(f'The group "{run.group_name}" no longer exists in Microsoft (it may '
                         "have been deleted). Choose a group again in Import settings.")
    except (ReconnectNeeded, TokenCacheUnreadable) as error:
        raise SyncFailed(f"{error} Reconnect to Microsoft in Import settings.")
    except (GraphForbidden, GraphUnauthorized):
        raise SyncFailed("Microsoft refused to list the group's members. Reconnect to Microsoft "
                         "with an account allowed to read groups (see Troubleshooting).")
    except GraphGaveUp as error:
        raise SyncFailed(f"Microsoft was busy or unavailable for too long. {error} Try again later.")
    except GraphError as error:
        raise SyncFailed(f"Microsoft returned an error we could not use: {error}")
    except ConnectionError as error:
        raise SyncFailed(f"Microsoft's sign-in service could not be reached ({error}). Try again later.")
    return users


def _finish_recorded(run, plan, status, reason=None):
    """Preview and review: record the plan as the run's changes; the people stay untouched."""
    record_changes(run.id, plan)
    lifecycle.finish_run(run.id, status, reason, plan.counts())


def _apply_and_finish(run, plan):
    """One transaction: the run's ownership check, every people write, the history, the outcome."""
    if not lifecycle.claim_for_apply(run.id):
        db.session.rollback()
        return
    previous = last_complete_run(run.organisation_id, before_id=run.id)
    previous_at = previous.finished_at if previous is not None else None
    if plan.has_changes:
        apply_plan(run.organisation_id, plan, utcnow(), previous_at)
    record_changes(run.id, plan)
    if lifecycle.finish_run(run.id, m.COMPLETE, counts=plan.counts()):
        forget_status_counts(run.organisation_id)


def _apply_reviewed(run):
    lifecycle.report_progress(run.id, "Applying reviewed changes")
    plan = load_plan(run.id, load_existing(run.organisation_id))
    if not lifecycle.claim_for_apply(run.id):
        db.session.rollback()
        return
    if plan.has_changes:
        apply_plan(run.organisation_id, plan, utcnow())
    if lifecycle.finish_run(run.id, m.COMPLETE, counts=plan.counts()):
        forget_status_counts(run.organisation_id)
