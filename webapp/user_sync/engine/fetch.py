"""Fetching a group's transitive user members from Microsoft Graph, page by page."""
from operator import itemgetter

from webapp.user_sync.engine.diff import MicrosoftUser

SELECT = ("id", "displayName", "mail", "userPrincipalName", "jobTitle", "department",
          "accountEnabled", "userType")
PAGE_SIZE = 999
USER_TYPE = "#microsoft.graph.user"


def members_path(group_id):
    # The cast keeps devices, contacts, service principals and nested groups out, server-side.
    return f"/groups/{group_id}/transitiveMembers/microsoft.graph.user"


_pick = itemgetter(*SELECT)
_make = MicrosoftUser._make


def _users_of(items):
    """Tuples straight from each item; itemgetter keeps this off the profile at 50,000 users."""
    for item in items:
        if item.get("@odata.type", USER_TYPE) != USER_TYPE:
            continue
        try:
            yield _make(_pick(item))
        except KeyError:  # a property left out of the answer counts as empty
            yield MicrosoftUser(*(item.get(name) for name in SELECT))


def fetch_group_users(client, group_id, on_page=None):
    """Every user in the group, nested groups included, as MicrosoftUser tuples.

    Returns only after the last page: any error raises, so a caller never sees a partial list.
    """
    params = {"$select": ",".join(SELECT), "$top": str(PAGE_SIZE), "$count": "true"}
    headers = {"ConsistencyLevel": "eventual"}  # $count on directory objects needs it
    users, total = [], None
    for page in client.iter_pages(members_path(group_id), params=params, headers=headers):
        if total is None and "@odata.count" in page:
            total = page["@odata.count"]
        users.extend(_users_of(page.get("value", ())))
        if on_page is not None:
            on_page(len(users), total)
    return users, total
