"""The Troubleshooting checks that need nothing from Microsoft: they render at once.

Each check is a dict: title, status ("pass" | "fail" | "unknown"), message, fix (plain words)
and optional `links`, a list of link names the template turns into URLs ("manage_users",
"import_settings", "groups", "consent", "support", "user_sync").
"""
import os
import socket

from rq import Worker

from webapp.dates import format_moment
from webapp.microsoft.connect import (addresses_match, attempt_may_return, attempt_outcome_label,
                                      missing_organisations)
from webapp.microsoft.models import ATTEMPT_STARTED, CONNECTED, connection_for_organisation
from webapp.microsoft.selection import saved_selection, selection_sentence
from webapp.microsoft.services import last_attempt_for
from webapp.redis_conn import get_queue, get_redis
from webapp.words import counted

PASS, FAIL, UNKNOWN = "pass", "fail", "unknown"


def check(title, status, message, fix=None, links=(), items=()):
    return {"title": title, "status": status, "message": message, "fix": fix,
            "links": list(links), "items": list(items)}


def local_checks(organisation, user):
    connection = connection_for_organisation(organisation)
    return [
        member_everywhere(organisation, user),
        same_account(user, connection),
        last_attempt_account(organisation, user),
        connection_state(connection),
        group_chosen(organisation, connection),
        worker_running(),
        last_sync(organisation),
    ]


def member_everywhere(organisation, user):
    title = "Your account exists in every school of the trust"
    orgs = organisation.trust_organisations()
    missing = {org.id for org in missing_organisations(organisation, user)}
    items = [f"{org.name}: {'missing' if org.id in missing else 'present'}" for org in orgs]
    if missing:
        return check(title, FAIL, f"{user.email} is missing from {len(missing)} of "
                     f"{counted(len(orgs), 'school')}.", "An admin of each school listed as "
                     f"missing adds {user.email} under Manage users, then you connect again.",
                     ["manage_users"], items)
    return check(title, PASS, f"{user.email} is a member of {_every_school(orgs)}.", items=items)


def _every_school(orgs):
    if len(orgs) == 1:
        return orgs[0].name
    return "both schools" if len(orgs) == 2 else f"all {counted(len(orgs), 'school')}"


def same_account(user, connection):
    title = "You are signed in here as the connected Microsoft account"
    if connection is None:
        return check(title, UNKNOWN, "Not connected to Microsoft yet.",
                     "Connect with Microsoft from Import settings.", ["import_settings"])
    if addresses_match(user.email, connection.account_email, None):
        return check(title, PASS, f"Both are {connection.account_email}.")
    if connection.connected_by_user_id == user.id:  # Connect matched its mailbox address
        return check(title, PASS, f"You connected it, as {connection.account_email}, whose "
                     f"mailbox address is yours ({user.email}).")
    connector = connection.connected_by
    if connector is not None and not connection.needs_reconnect:
        # Another admin's working connection: nothing to fix, and reconnecting would replace it.
        return check(title, UNKNOWN, f"{connector.email} connected it, as "
                     f"{connection.account_email}; you are signed in as {user.email}. That is "
                     "fine while it works. To connect again yourself, use the Microsoft "
                     f"account whose address is exactly {user.email}.")
    return check(title, FAIL, f"You are signed in here as {user.email}, but the Microsoft "
                 f"connection uses {connection.account_email}.",
                 f"Sign in here as {connection.account_email}, or reconnect with the Microsoft "
                 f"account {user.email}. They must be exactly the same address.",
                 ["import_settings"])


def last_attempt_account(organisation, user):
    title = "The last Connect with Microsoft returned your account"
    attempt = last_attempt_for(organisation)
    if attempt is None:
        return check(title, UNKNOWN, "Nobody has tried to connect yet.")
    who = attempt.user.email if attempt.user else "someone"
    if attempt.outcome == ATTEMPT_STARTED:
        state = ("is still in progress" if attempt_may_return(attempt)
                 else "was abandoned before Microsoft sent it back")
        return check(title, UNKNOWN, f"The last attempt (by {who}) {state}.")
    if not attempt.returned_account:
        return check(title, UNKNOWN, f"The last attempt (by {who}) ended before Microsoft named "
                     f"an account: {attempt.detail or attempt_outcome_label(attempt)}.")
    if attempt.outcome == CONNECTED or addresses_match(who, attempt.returned_account, None):
        # Connected: its account check passed (a mailbox address can match, not only the name).
        return check(title, PASS, f"{who} connected as {attempt.returned_account}.")
    return check(title, FAIL, f"{who} started the last attempt, but Microsoft returned "
                 f"{attempt.returned_account}.",
                 "Your browser probably remembered another Microsoft account and used it. Choose "
                 "Connect with a different Microsoft account and sign in with the right address, "
                 "or use another browser that is not signed in to Microsoft (a private window "
                 "is sometimes not enough).", ["import_settings"])


def connection_state(connection):
    title = "The Microsoft connection is working"
    if connection is None:
        return check(title, UNKNOWN, "Not connected to Microsoft yet.",
                     "Connect with Microsoft from Import settings.", ["import_settings"])
    if connection.needs_reconnect:
        return check(title, FAIL, connection.status_reason
                     or "The saved Microsoft sign-in no longer works.",
                     "Choose Reconnect in Import settings and sign in again.", ["import_settings"])
    return check(title, PASS, f"Connected as {connection.account_email}.")


def group_chosen(organisation, connection):
    title = f"{organisation.name} has chosen the groups to sync"
    selection = saved_selection(organisation)
    if connection is None:
        return check(title, UNKNOWN, "Connect with Microsoft first.")
    if not selection.synced:
        return check(title, FAIL, "No group chosen yet.", "Choose the groups to sync.", ["groups"])
    return check(title, PASS, f"{selection_sentence(selection)}.")


def worker_running():
    title = "A background worker is running"
    try:
        workers = Worker.all(queue=get_queue("quick"), connection=get_redis())
    except Exception as error:  # Redis down: say so rather than fail the page
        return check(title, UNKNOWN, f"Could not ask Redis about workers ({type(error).__name__}).",
                     "Check that Redis is running.", ["support"])
    workers = [worker for worker in workers if _alive(worker)]
    if workers:
        return check(title, PASS, f"{counted(len(workers), 'worker')} listening.")
    return check(title, FAIL, "No worker is running, so syncs and checks wait forever.",
                 "Start the worker process (`python -m jobs.worker`, the Procfile's worker).",
                 ["support"])


def _alive(worker):
    """A worker killed without warning stays registered for minutes; on this host we can tell."""
    if worker.hostname != socket.gethostname() or not worker.pid:
        return True
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def last_sync(organisation):
    from webapp.user_sync import models as sync
    from webapp.user_sync.engine import liveness, queries
    title = "The last sync finished"
    run = queries.latest_run(organisation.id)
    if run is None:
        return check(title, UNKNOWN, "Unknown: no sync has run yet.", "Press Sync now on Manage "
                     "user sync once a group is chosen.", ["user_sync"])
    when = format_moment(run.finished_at or run.started_at or run.created_at, organisation)
    if run.is_active:
        stale = liveness.stale_reason(run)
        if stale:
            return check(title, FAIL, stale, "Make sure a worker is running, then press Sync now "
                         "again.", ["user_sync"])
        return check(title, UNKNOWN, f"A sync is under way ({run.phase}).", None, ["user_sync"])
    if run.status == sync.COMPLETE:
        return check(title, PASS, f"Finished {when}: {run.added} added, {run.updated} updated, "
                     f"{run.suspended} suspended, {run.skipped} skipped.")
    if run.status == sync.NEEDS_REVIEW:
        return check(title, FAIL, f"The sync of {when} is waiting for an admin to review the "
                     "people it would suspend.", "Open Manage user sync and review them.",
                     ["user_sync"])
    if run.status == sync.FAILED:
        return check(title, FAIL, f"The sync of {when} failed: {run.reason or 'no reason recorded'}",
                     "Fix what the message says (the checks above help), then press Sync now.",
                     ["user_sync"])
    return check(title, UNKNOWN, f"The sync of {when} was cancelled.", None, ["user_sync"])

