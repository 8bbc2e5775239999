"""Why isn't this person synced? Answers from the last run, then from the tenant itself."""
from dataclasses import dataclass, replace

from sqlalchemy import func, or_, select

from webapp.extensions import db
from webapp.listing import starts_with
from webapp.microsoft.graph import GraphError
from webapp.microsoft.app_credentials import AppCredentialsRefused
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.selection import gone_words, quoted_names, saved_selection
from webapp.microsoft.services import graph_client_for
from webapp.microsoft.tokens import TokenCacheUnreadable
from webapp.user_sync import models as m
from webapp.user_sync.engine import queries
from webapp.user_sync.engine.diff import MicrosoftUser, email_of, scope_of
from webapp.user_sync.engine.fetch import SELECT
from webapp.user_sync.engine.one_person import plan_for
from webapp.user_sync.engine.person_lookup import (
    GroupsMissing, PersonNotInTenant, check_groups_exist, look_up, users_with_address)
from webapp.user_sync.engine.store import load_existing, protected_memberships
from webapp.user_sync.reasons import changed_fields_text, reason_text
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
    """Answers for everyone the question names: the synced people and last run's skips it
    matches, and whoever Microsoft finds, each decided now by the sync's own rule. What was
    stored answers alone only when Microsoft cannot be asked (it said "Excluded" of someone
    included again since, or "Left the group" of someone back in it)."""
    query = (query or "").strip()
    if len(query) < 2:
        return []
    stored = _from_synced_people(organisation, query) + _from_last_run(organisation, query)
    return _from_tenant(organisation, query, stored)


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


def _from_tenant(organisation, query, stored):
    connection, selection = connection_for_organisation(organisation), saved_selection(organisation)
    if connection is None or not selection.synced:
        return _first_unique(stored) or [Answer(
            UNKNOWN, "Connect to Microsoft and choose the groups to sync first; then this can "
                     "check your tenant.")]
    client = graph_client_for(connection, max_attempts=3, max_total_wait=10)
    try:
        found = _search_tenant(client, query)
        asked = _first_unique([a.microsoft_id for a in stored] + [u.id for u in found])[:LIMIT]
        if not asked:
            return [_nobody_found(query)]
        check_groups_exist(client, selection.groups)  # once, not for each person asked
        rules = _SyncRules(settings_for(organisation.id).include_guests,
                           protected_memberships(organisation.id, connection), selection,
                           load_existing(organisation.id))
        return [_tenant_answer(client, rules, microsoft_id) for microsoft_id in asked]
    except GroupsMissing as missing:
        problem = gone_words(missing.groups).said(where="Import settings")
    except (ReconnectNeeded, TokenCacheUnreadable) as error:
        problem = f"{error} Reconnect to Microsoft in Import settings, then ask again."
    except AppCredentialsRefused as error:
        problem = str(error)
    except (GraphError, ConnectionError) as error:
        problem = f"Microsoft could not answer just now ({error}). Try again."
    # What was stored, said as of the last sync, with why it could not be asked afresh.
    return [Answer(UNKNOWN, problem)] + [
        replace(a, text=f"As of the last sync: {a.text}") for a in _first_unique(stored)]


def _first_unique(items):
    """Each answer (or id) once, the first one kept: a person can match twice (their synced
    row and a skip of the last run)."""
    seen, kept = set(), []
    for item in items:
        key = getattr(item, "microsoft_id", item)
        if key and key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


@dataclass
class _SyncRules:
    """What the sync would weigh for this organisation besides the person themselves."""
    include_guests: bool
    protected: dict
    selection: object  # microsoft.selection.Selection: the saved groups
    existing: list     # the school's synced people (store.load_existing), read once


def _search_tenant(client, query):
    """The people the question names. An address is read from the directory itself (the
    query Sync this person now makes); a name only through Microsoft's search, which reads an
    index that can be minutes behind (its candidates are then decided on plain reads)."""
    if "@" in query:
        return users_with_address(client, query)
    page = client.get_json("/users", params={
        "$select": ",".join(SELECT), "$top": str(LIMIT), "$count": "true",
        "$search": '"displayName:' + query.replace('"', "") + '"'},
        headers={"ConsistencyLevel": "eventual"})
    return [MicrosoftUser(*(item.get(name) for name in SELECT)) for item in page.get("value", ())]


def _nobody_found(query):
    if "@" in query:
        return Answer(NOT_IN_TENANT, f"No such person in your Microsoft tenant: nobody has the "
                                     f"address or sign-in name “{query}”.")
    return Answer(NOT_IN_TENANT, f"Microsoft's search finds nobody called “{query}”. Its search "
                                 "can be a few minutes behind a new or renamed account: type "
                                 "their email address or sign-in name to ask Microsoft directly.")


def _tenant_answer(client, rules, microsoft_id):
    """The sync's own decision for this person, from the reads Sync this person now makes
    (plain reads and checkMemberGroups, never the lagging index; the same plan_for, so the
    answer and that button never disagree), put into words."""
    row = next((r for r in rules.existing if r.microsoft_id == microsoft_id), None)
    try:
        found = look_up(client, rules.selection, microsoft_id, groups_checked=True)
    except PersonNotInTenant:
        return _gone_answer(rules, row, microsoft_id)
    plan = plan_for(found, row, rules.existing, rules.protected, rules.include_guests,
                    rules.selection)
    code, text = _plan_words(plan, found, row, rules.selection)
    return Answer(code, text, found.user.display_name or "", email_of(found.user), microsoft_id)


def _gone_answer(rules, row, microsoft_id):
    """No longer in the tenant: for someone held, the sync's absence rule (plan_changes)."""
    if row is None:
        return Answer(NOT_IN_TENANT, "No longer in your Microsoft tenant.", "", "", microsoft_id)
    plan = plan_for(None, row, rules.existing, rules.protected, rules.include_guests,
                    rules.selection)  # the absence rule, as Sync this person now applies it
    held = db.session.get(m.SyncedPerson, row.id)
    if plan.suspends:
        return Answer(plan.suspends[0][2], "No longer in your Microsoft tenant: the next sync "
                      "suspends them.", held.display_name, held.email, microsoft_id)
    answer = _synced_answer(held)
    answer.text += " No longer in your Microsoft tenant."
    return answer


def _plan_words(plan, found, row, selection):
    scope = scope_of(found.user.id, found.memberships, selection)
    group = plan.excluded_by.get(found.user.id)

    def why(reason):
        if reason == m.LEFT_GROUP and group is None:
            return _not_in_groups(selection.synced)
        return reason_text(reason, group)
    if plan.skips and row is not None and row.status != "active":
        answer = _synced_answer(db.session.get(m.SyncedPerson, row.id))  # left as they are
        return answer.code, answer.text
    if plan.skips:
        reason = plan.skips[0][1]
        if reason == m.LEFT_GROUP and group is None:
            return NOT_IN_GROUP, why(reason)
        return reason, why(reason)
    if plan.keeps:
        reason = plan.keeps[0][2]
        return reason, why(reason)
    if plan.suspends:
        reason = plan.suspends[0][2]
        return reason, f"The next sync suspends them: {why(reason)}"
    if plan.adds:
        if len(selection.synced) == 1:
            return NOT_YET, "In the group, but not synced yet. Press Sync now."
        return NOT_YET, f"In {quoted_names(scope.synced_via)}, but not synced yet. Press Sync now."
    if plan.reinstates:
        return SYNCED, ("Synced, status Suspended: the next sync reinstates them, as they are "
                        "back in the chosen groups.")
    if plan.updates:
        return SYNCED, (f"Synced, status Active: the next sync updates their "
                        f"{changed_fields_text(','.join(plan.updates[0][2]))} to match Microsoft.")
    if row is not None:  # nothing for the next sync to do: as held now
        answer = _synced_answer(db.session.get(m.SyncedPerson, row.id))
        return answer.code, answer.text
    if not scope.in_scope and scope.excluding is None:
        return NOT_IN_GROUP, _not_in_groups(selection.synced)
    return NOT_YET, "In the group, but not synced yet. Press Sync now."


def _not_in_groups(synced):
    if len(synced) == 1:
        return f"Not in the group “{synced[0].name}” (nor in any group nested inside it)."
    return (f"Not in any of the chosen groups ({quoted_names(synced)}), nor in any group nested "
            "inside them.")

