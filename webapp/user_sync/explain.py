"""Why isn't this person synced? Answers from the last run, then from the tenant itself."""
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from webapp.extensions import db
from webapp.microsoft.graph import GraphError
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.selection import saved_selection
from webapp.user_sync import models as m
from webapp.user_sync.engine import queries
from webapp.user_sync.engine.diff import MicrosoftUser, email_of, is_guest
from webapp.user_sync.engine.fetch import SELECT, members_path
from webapp.user_sync.engine.scope import scope_of
from webapp.user_sync.reasons import reason_text

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
    return or_(email_column == lowered, lowered_name_column == lowered,
               lowered_name_column.like(lowered.replace("%", "").replace("_", "") + "%"))


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
        text = f"Synced, status Suspended: {reason_text(person.suspended_reason)}"
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
        return [Answer(UNKNOWN, "Connect to Microsoft and choose a group first; then this can "
                                "check your tenant.")]
    from webapp.microsoft.services import graph_client_for
    client = graph_client_for(connection, max_attempts=3, max_total_wait=10)
    try:
        users = _search_tenant(client, query)
        if not users:
            return [Answer(NOT_IN_TENANT, f"No such person in your Microsoft tenant: nobody "
                                          f"matches “{query}”.")]
        return [_tenant_answer(client, selection, user) for user in users]
    except ReconnectNeeded as error:
        return [Answer(UNKNOWN, f"{error} Then ask again.")]
    except GraphError as error:
        return [Answer(UNKNOWN, f"Microsoft could not answer just now ({error}). Try again.")]


def _search_tenant(client, query):
    params = {"$select": ",".join(SELECT), "$top": str(LIMIT), "$count": "true"}
    if "@" in query:
        quoted = query.replace("'", "''")
        params["$filter"] = f"mail eq '{quoted}' or userPrincipalName eq '{quoted}'"
    else:
        params["$search"] = '"displayName:' + query.replace('"', "") + '"'
    page = client.get_json("/users", params=params, headers={"ConsistencyLevel": "eventual"})
    return [MicrosoftUser(*(item.get(name) for name in SELECT)) for item in page.get("value", ())]


def _in_group(client, group_id, user_id):
    page = client.get_json(members_path(group_id), params={
        "$filter": f"id eq '{user_id}'", "$count": "true", "$select": "id"},
        headers={"ConsistencyLevel": "eventual"})
    return bool(page.get("value"))


def _memberships_of(client, selection, user_id):
    """{group id: {user_id}} for each chosen group the user is in: what scope_of needs."""
    return {group.id: {user_id} for group in selection.groups
            if _in_group(client, group.id, user_id)}


def _tenant_answer(client, selection, user):
    answer = Answer(NOT_YET, "", user.display_name or "", email_of(user), user.id)
    # --- group scope: the same rule as the sync (engine.scope.scope_of) ---------------------
    scope = scope_of(user.id, _memberships_of(client, selection, user.id), selection)
    if scope.excluding is not None:
        answer.code, answer.text = m.EXCLUDED_GROUP, reason_text(m.EXCLUDED_GROUP,
                                                                 scope.excluding.name)
    elif not scope.in_scope:
        answer.code, answer.text = NOT_IN_GROUP, (
            f"In none of the chosen groups ({selection.names(selection.synced)}), nor in any "
            "group nested inside them.")
    # ------------------------------------------------------------------------------------------
    elif is_guest(user):
        answer.code, answer.text = m.GUEST, reason_text(m.GUEST)
    elif user.enabled is False:
        answer.code, answer.text = m.DISABLED, reason_text(m.DISABLED)
    else:
        answer.text = (f"In {selection.names(scope.synced_via)}, but not synced yet. "
                       "Press Sync now.")
    return answer
