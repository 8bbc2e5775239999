"""The Troubleshooting checks that ask Microsoft; they run in an RQ job and stream into Redis."""
import json
import uuid

import requests

from webapp.auth.models import User
from webapp.extensions import db
from webapp.microsoft import groups
from webapp.microsoft import forbidden
from webapp.microsoft.app_credentials import AppCredentialsRefused
from webapp.microsoft.graph import GraphError, GraphForbidden, GraphNotFound
from webapp.microsoft.identity import ReconnectNeeded, token_result_for
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.selection import gone_words, saved_selection
from webapp.microsoft.services import graph_client_for
from webapp.orgs.models import Organisation
from webapp.redis_conn import enqueue, get_redis, redis_key
from webapp.troubleshooting.checks import FAIL, PASS, UNKNOWN, check

RESULT_TTL_SECONDS = 3600
TRANSIENT = (GraphError, requests.RequestException, ConnectionError)


def start(organisation, user):
    """Queues the checks; returns the run id the page polls with."""
    run_id = uuid.uuid4().hex
    _save(run_id, {"status": "queued", "organisation_id": organisation.id, "user_id": user.id,
                   "checks": []})
    enqueue("quick", "jobs.microsoft.run_troubleshooting_checks", organisation.id, user.id, run_id,
            description=f"troubleshooting checks {run_id} of organisation {organisation.id}")
    return run_id


def load(run_id, organisation, user):
    raw = get_redis().get(redis_key("troubleshooting", run_id))
    state = json.loads(raw) if raw else None
    if state is None or state["organisation_id"] != organisation.id or state["user_id"] != user.id:
        return None
    return state


def _save(run_id, state):
    get_redis().set(redis_key("troubleshooting", run_id), json.dumps(state), ex=RESULT_TTL_SECONDS)


def run(organisation_id, user_id, run_id):
    organisation = db.session.get(Organisation, organisation_id)
    user = db.session.get(User, user_id)
    state = {"status": "running", "organisation_id": organisation_id, "user_id": user_id,
             "checks": []}
    _save(run_id, state)
    connection = connection_for_organisation(organisation) if organisation else None
    if connection is None or user is None:
        state["status"] = "finished"
        _save(run_id, state)
        return state
    for step in (tokens_refresh, account_enabled, scopes_granted, admin_consent, group_still_valid):
        state["checks"].append(step(connection, organisation))
        _save(run_id, state)  # each result shows on the page as soon as it is known
    state["status"] = "finished"
    _save(run_id, state)
    return state


def tokens_refresh(connection, organisation):
    title = "The saved Microsoft sign-in still refreshes"
    try:
        token_result_for(connection.id, force_refresh=True)
    except ReconnectNeeded as error:
        return check(title, FAIL, str(error), "Choose Reconnect in Import settings.",
                     ["import_settings"])
    except AppCredentialsRefused as error:
        return check(title, FAIL, str(error), "Nothing: reconnecting cannot help, and the "
                     "platform's operators are fixing it.")
    except TRANSIENT as error:
        return check(title, UNKNOWN, f"Could not reach Microsoft ({type(error).__name__}).",
                     "Try again in a minute.")
    return check(title, PASS, "Microsoft issued a fresh token.")


def account_enabled(connection, organisation):
    title = "The connected Microsoft account is enabled"
    return _ask_graph(title, connection, lambda client: _enabled_result(
        title, connection, client.get_json("me", params={"$select": "accountEnabled,userPrincipalName"})),
                      "read the connected account")


def _enabled_result(title, connection, me):
    if me.get("accountEnabled") is False:
        return check(title, FAIL, f"{connection.account_email} is disabled in Microsoft.",
                     "Ask your Microsoft 365 administrator to allow it to sign in.")
    return check(title, PASS, f"{me.get('userPrincipalName') or connection.account_email} can sign in.")


def scopes_granted(connection, organisation):
    title = "Microsoft granted the permissions sync needs"
    db.session.refresh(connection)
    missing = forbidden.missing_scopes(connection)
    if missing:
        return check(title, FAIL, "Missing: " + ", ".join(missing) + ".",
                     "Send the approval link to your Microsoft 365 administrator, then reconnect.",
                     ["consent", "import_settings"])
    return check(title, PASS, "Granted: " + ", ".join(forbidden.NEEDED_SCOPES) + ".")


def admin_consent(connection, organisation):
    title = "An administrator has approved rostersync (admin consent)"

    def probe(client):
        client.get_json("groups", params={"$top": "1", "$select": "id"})
        return check(title, PASS, "rostersync can read your organisation's groups.")
    return _ask_graph(title, connection, probe, "list your organisation's groups")


def group_still_valid(connection, organisation):
    title = "The chosen groups still exist and can be synced"
    chosen = saved_selection(organisation).groups
    if not chosen:
        return check(title, UNKNOWN, "No group chosen yet.", "Choose the groups to sync.", ["groups"])

    def probe(client):
        found = []
        for choice in chosen:
            try:
                group = client.get_json(f"groups/{choice.id}", params={"$select": groups.GROUP_FIELDS})
            except GraphNotFound:
                gone = gone_words([choice])
                return check(title, FAIL, gone.happened, gone.to_do(), ["groups"])
            kind, _ = groups.classify(group)
            if kind not in groups.SUPPORTED_KINDS:
                return check(title, FAIL, f'“{group.get("displayName")}” is now a '
                             f"{groups.KIND_LABELS[kind]} group, which cannot be synced.",
                             "Choose a Security or Distribution group.", ["groups"])
            found.append(f'“{group.get("displayName")}” is a {groups.KIND_LABELS[kind]} group')
        return check(title, PASS, "; ".join(found) + ".")
    return _ask_graph(title, connection, probe, "read the chosen groups")


def _ask_graph(title, connection, probe, doing="answer this check"):
    try:
        return probe(graph_client_for(connection, max_attempts=3, max_total_wait=20))
    except ReconnectNeeded as error:
        return check(title, UNKNOWN, f"Could not check: {error}", "Reconnect first.",
                     ["import_settings"])
    except AppCredentialsRefused as error:
        return check(title, UNKNOWN, f"Could not check: {error}")
    except GraphForbidden as error:
        refusal = forbidden.explain(connection, doing)
        links = ["consent", "import_settings"] if refusal.cause == forbidden.CONSENT else ["import_settings"]
        return check(title, FAIL, f"{refusal.message} ({error.code})", refusal.fix, links)
    except TRANSIENT as error:
        return check(title, UNKNOWN, f"Could not ask Microsoft: {error}", "Try again in a minute.")
