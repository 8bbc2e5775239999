"""One person and their memberships, read from Microsoft Graph for Sync this person now.

The cheapest calls that still give diff.decide everything a full sync would (Microsoft's
documents: api/user-get, api/user-list, api/directoryobject-checkmembergroups,
graph/filter-query-parameter):

1. GET /groups?$filter=id in (...)      do the chosen groups still exist? (15 ids a request, the
                                        `in` limit without advanced queries). A deleted group
                                        must fail the sync, as a full sync fails, rather than
                                        make its members look like leavers.
2. GET /users/{id}?$select=...          the person by Microsoft id (from a synced person's row),
   or GET /users?$filter=mail eq 'x' or userPrincipalName eq 'x'   by a typed email or UPN;
                                        the same answer lists anyone else with that address
                                        (the duplicate-email rule), else one more such query.
3. POST /users/{id}/checkMemberGroups   which of the chosen and excluded groups they are in,
                                        nested groups included (20 ids a request).

Permissions: User.Read.All and GroupMember.Read.All, which the connection already asks for.
Every call goes through the one GraphClient (timeouts, Retry-After, back-off); any error raises.
"""
import re
from dataclasses import dataclass

from webapp.microsoft.graph import GraphNotFound
from webapp.user_sync.engine.diff import MicrosoftUser, email_of
from webapp.user_sync.engine.fetch import SELECT
from webapp.user_sync.engine.store import chunks

MICROSOFT_ID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
IN_LIMIT = 15       # values of one `in` filter on a default (not advanced) query
CHECK_LIMIT = 20    # group ids per checkMemberGroups request
ADDRESS_MATCHES = 10  # enough to tell one person from several sharing an address
DEFAULT_EQ_LIMIT = 120  # characters of an eq value on a default query (Graph known issue 13635)


class PersonNotInTenant(Exception):
    """Nobody in the tenant has this id, email or sign-in name."""


class AmbiguousAddress(Exception):
    def __init__(self, count):
        super().__init__(count)
        self.count = count


class GroupsMissing(Exception):
    def __init__(self, groups):
        super().__init__(", ".join(g.name for g in groups))
        self.groups = groups


@dataclass
class FoundPerson:
    user: MicrosoftUser
    others_with_address: list  # other tenant users whose address is the same (MicrosoftUsers)
    memberships: dict          # group id -> {ids of these users in it}: what diff.decide needs

    @property
    def everyone(self):
        return [self.user] + self.others_with_address


def is_microsoft_id(text):
    return bool(MICROSOFT_ID.match(text or ""))


def look_up(client, selection, asked, groups_checked=False):
    """FoundPerson for `asked` (a Microsoft id, email or UPN); raises PersonNotInTenant,
    AmbiguousAddress, GroupsMissing or the Graph client's errors. groups_checked: the caller
    asked check_groups_exist already (once for several people)."""
    if not groups_checked:
        check_groups_exist(client, selection.groups)
    user, same_address = find_user(client, asked)
    address = email_of(user).lower()
    if same_address is None or address != asked.strip().lower():
        same_address = users_with_address(client, address) if address else []
    others = [u for u in same_address if u.id != user.id and email_of(u).lower() == address]
    found = FoundPerson(user, others, {})
    found.memberships = memberships_of(client, selection.groups, found.everyone)
    return found


def check_groups_exist(client, groups):
    present = set()
    for part in chunks([g.id for g in groups], IN_LIMIT):
        quoted = ",".join(f"'{_quote(group_id)}'" for group_id in part)
        page = client.get_json("/groups", params={"$filter": f"id in ({quoted})",
                                                  "$select": "id", "$top": str(IN_LIMIT)})
        present.update(item["id"] for item in page.get("value", ()))
    missing = [g for g in groups if g.id not in present]
    if missing:
        raise GroupsMissing(missing)


def find_user(client, asked):
    """(the user, the users an address query returned or None)."""
    asked = asked.strip()
    if is_microsoft_id(asked):
        try:
            return _user(client.get_json(f"/users/{asked}",
                                         params={"$select": ",".join(SELECT)})), None
        except GraphNotFound:
            raise PersonNotInTenant(asked) from None
    matches = users_with_address(client, asked)
    exact = [u for u in matches if (u.upn or "").lower() == asked.lower()]
    if len(exact) == 1:
        return exact[0], matches
    if not matches:
        raise PersonNotInTenant(asked)
    if len(matches) > 1:
        raise AmbiguousAddress(len(matches))
    return matches[0], matches


def users_with_address(client, address):
    """A default query, which reads the directory itself: with ConsistencyLevel: eventual it
    read the index behind advanced queries, which lags recent changes (aad-advanced-queries),
    and a joiner created minutes ago was "nobody in your tenant". Only an address longer than
    a default query's eq takes (Graph known issue 13635) needs the advanced form."""
    quoted = _quote(address)
    params = {"$filter": f"mail eq '{quoted}' or userPrincipalName eq '{quoted}'",
              "$select": ",".join(SELECT), "$top": str(ADDRESS_MATCHES)}
    headers = None
    if len(quoted) > DEFAULT_EQ_LIMIT:
        params["$count"], headers = "true", {"ConsistencyLevel": "eventual"}
    page = client.get_json("/users", params=params, headers=headers)
    return [_user(item) for item in page.get("value", ())]


def memberships_of(client, groups, users):
    memberships = {group.id: set() for group in groups}
    for user in users:
        for part in chunks([g.id for g in groups], CHECK_LIMIT):
            answer = client.post_json(f"/users/{user.id}/checkMemberGroups", {"groupIds": part})
            for group_id in answer.get("value", ()):
                if group_id in memberships:
                    memberships[group_id].add(user.id)
    return memberships


def _user(item):
    return MicrosoftUser(*(item.get(name) for name in SELECT))


def _quote(text):
    return text.replace("'", "''")
