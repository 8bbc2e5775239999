"""Why isn't this person synced? Answers from the last run, then from the tenant itself."""
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from webapp.extensions import db
from webapp.listing import starts_with
from webapp.microsoft.graph import GraphError
from webapp.microsoft.app_credentials import AppCredentialsRefused
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.selection import saved_selection
from webapp.microsoft.services import graph_client_for
from webapp.microsoft.tokens import TokenCacheUnreadable
from webapp.user_sync import models as m
from webapp.user_sync.engine import queries
from webapp.user_sync.engine.diff import (MicrosoftUser, address_key, counted_emails, decide,
                                          email_of)
from webapp.user_sync.engine.fetch import SELECT
from webapp.user_sync.engine.store import load_existing, protected_memberships
from webapp.user_sync.reasons import reason_text
from webapp.user_sync.settings import settings_for

NOT_IN_GROUP, NOT_IN_TENANT, SYNCED, NOT_YET, UNKNOWN = (
    "not_in_group", "not_in_tenant", "synced", "not_synced_yet", "unknown")
LIMIT = 10


@dataclass
class Answer:
    code: str
    text: str
    name: str = ""
    email: str = ""
    microsoft_id: str = ""


def explain(organisation, query):
    query = (query or "").strip()
    if len(query) < 2:
        return []
    return (_from_synced_people(organisation, query) or _from_last_run(organisation, query)
            or _from_tenant(organisation, query))


def _matches(lowered_name_column, email_column, query):
    lowered = query.lower()
    return or_(email_column == lowered, starts_with(lowered_name_column, lowered))


def _from_synced_people(organisation, query):
    found = db.session.scalars(select(m.SyncedPerson).where(
        m.SyncedPerson.organisation_id == organisation.id,
        _matches(m.SyncedPerson.sort_name, m.SyncedPerson.email_normalised, query))
        .limit(LIMIT)).all()
    return [_synced_answer(p) for p in found]


def _synced_answer(person):
    if person.excluded:
        code, text = m.EXCLUDED, reason_text(m.EXCLUDED) + " Include them again to sync them."
    elif person.status == "suspended":
        code = SYNCED
        text = ("Synced, status Suspended: "
                f"{reason_text(person.suspended_reason, person.suspended_group)}")
    else:
        code, text = SYNCED, "Synced, status Active."
    return Answer(code, text, person.display_name, person.email, person.microsoft_id)


def _from_last_run(organisation, query):
    run = queries.last_recorded_run(organisation.id)
    if run is None:
        return []
    found = db.session.scalars(select(m.SyncChange).where(
        m.SyncChange.run_id == run.id, m.SyncChange.action == m.SKIP,
        _matches(func.lower(m.SyncChange.display_name), func.lower(m.SyncChange.email), query))
        .limit(LIMIT)).all()
    return [Answer(c.reason, f"Skipped in the last sync: {reason_text(c.reason, c.detail)}",
                   c.display_name or "", c.email or "", c.microsoft_id) for c in found]


def _from_tenant(organisation, query):
    connection, selection = connection_for_organisation(organisation), saved_selection(organisation)
    if connection is None or not selection.synced:
        return [Answer(UNKNOWN, "Connect to Microsoft and choose the groups to sync first; then this can "
                                "check your tenant.")]
    client = graph_client_for(connection, max_attempts=3, max_total_wait=10)
    try:
        users = _search_tenant(client, query)
        if not users:
            return [Answer(NOT_IN_TENANT, f"No such person in your Microsoft tenant: nobody "
                                          f"matches “{query}”.")]
        rules = _SyncRules(organisation.id, settings_for(organisation.id).include_guests,
                           protected_memberships(organisation.id, connection), selection)
        return [_tenant_answer(client, rules, user) for user in users]
    except (ReconnectNeeded, TokenCacheUnreadable) as error:
        return [Answer(UNKNOWN, f"{error} Reconnect to Microsoft in Import settings, then ask "
                                "again.")]
    except AppCredentialsRefused as error:
        return [Answer(UNKNOWN, str(error))]
    except (GraphError, ConnectionError) as error:
        return [Answer(UNKNOWN, f"Microsoft could not answer just now ({error}). Try again.")]


@dataclass
class _SyncRules:
    """What the sync would weigh for this organisation besides the person themselves."""
    organisation_id: int
    include_guests: bool
    protected: dict
    selection: object  # microsoft.selection.Selection: the saved groups


def _search_tenant(client, query):
    params = {"$select": ",".join(SELECT), "$top": str(LIMIT), "$count": "true"}
    if "@" in query:
        params["$filter"] = _address_filter(query)
    else:
        params["$search"] = '"displayName:' + query.replace('"', "") + '"'
    page = client.get_json("/users", params=params, headers={"ConsistencyLevel": "eventual"})
    return _users(page)


def _address_filter(address):
    quoted = address.replace("'", "''")
    return f"mail eq '{quoted}' or userPrincipalName eq '{quoted}'"


def _users(page):
    return [MicrosoftUser(*(item.get(name) for name in SELECT)) for item in page.get("value", ())]


def _group_members(client, group_id, odata_filter, limit=LIMIT):
    """The group's users matching a filter: a filter on a member list is an advanced query, so
    this reads the index (which may lag a change of the last minutes; the sync itself never does)."""
    page = client.get_json(f"/groups/{group_id}/transitiveMembers/microsoft.graph.user", params={
        "$filter": odata_filter, "$count": "true", "$select": ",".join(SELECT), "$top": str(limit)},
        headers={"ConsistencyLevel": "eventual"})
    return _users(page)


def _memberships_of(client, selection, user_id):
    """{group id: {user_id}} for each chosen group the user is in: what diff.decide needs."""
    return {group.id: {user_id} for group in selection.groups
            if _group_members(client, group.id, f"id eq '{user_id}'", limit=1)}


def _sharing_email(client, rules, user, memberships):
    """How many people of the chosen groups the sync counts for this user's address (them
    included), each weighed by the same rule as the sync."""
    email, synced = email_of(user).lower(), rules.selection.synced
    if not email or not any(group.id in memberships for group in synced):
        return 0  # in none of the synced groups: nobody's address matters
    same = {u.id: u for group in synced
            for u in _group_members(client, group.id, _address_filter(email))}
    same[user.id] = user
    known = dict(memberships)
    for twin in same.keys() - {user.id}:
        for group_id in _memberships_of(client, rules.selection, twin):
            known[group_id] = known.get(group_id, set()) | {twin}
    return counted_emails(same.values(), rules.include_guests, known,
                          rules.selection)[address_key(user)]


def _tenant_answer(client, rules, user):
    """The sync's own decision for this person (diff.decide), put into words."""
    answer = Answer(NOT_YET, "", user.display_name or "", email_of(user), user.id)
    memberships = _memberships_of(client, rules.selection, user.id)
    rows = load_existing(rules.organisation_id, microsoft_id=user.id)
    decision = decide(user, rows[0] if rows else None, rules.protected, rules.include_guests,
                      _sharing_email(client, rules, user, memberships), memberships,
                      rules.selection)
    answer.code, answer.text = _decision_words(decision, rules.selection)
    return answer


def _decision_words(decision, selection):
    scope = decision.scope
    if not scope.in_scope and scope.excluding is None:
        return NOT_IN_GROUP, _not_in_groups(selection.synced)
    group = scope.excluding.name if scope.excluding is not None else None
    if decision.action in (m.SKIP, m.KEEP):
        return decision.reason, reason_text(decision.reason, group)
    if decision.action == m.SUSPEND:
        return decision.reason, ("The next sync suspends them: "
                                 f"{reason_text(decision.reason, group)}")
    if len(selection.synced) == 1:
        return NOT_YET, "In the group, but not synced yet. Press Sync now."
    return NOT_YET, (f"In {_quoted(scope.synced_via)}, but not synced yet. Press Sync now.")


def _not_in_groups(synced):
    if len(synced) == 1:
        return f"Not in the group “{synced[0].name}” (nor in any group nested inside it)."
    return (f"Not in any of the chosen groups ({_quoted(synced)}), nor in any group nested "
            "inside them.")


def _quoted(groups):
    return ", ".join(f"“{group.name}”" for group in groups)
