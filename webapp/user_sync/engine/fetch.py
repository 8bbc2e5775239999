"""Fetching the chosen groups' transitive user members from Microsoft Graph, page by page."""
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass
from operator import itemgetter

from webapp.user_sync.engine.diff import MicrosoftUser
from webapp.user_sync.engine.scope import SYNC

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


FETCH_THREADS = 4  # groups fetched at once: enough to overlap Graph's latency, gentle on throttling
PROGRESS_EVERY = 0.5  # seconds between progress reports from the waiting thread


@dataclass
class Fetched:
    users: list        # the synced groups' users, each once (MicrosoftUser)
    memberships: dict  # group id -> ids of its transitive user members (synced and excluded groups)


class GroupFetchFailed(Exception):
    """One chosen group could not be fetched completely; `error` says why."""

    def __init__(self, group, error):
        super().__init__(f"{group.name}: {error}")
        self.group, self.error = group, error


class _Stopped(Exception):
    """Another group failed: this one stops at its next page."""


def fetch_selection(clients, groups, on_progress=None, context=nullcontext,
                    threads=FETCH_THREADS):
    """Every member of every chosen group (ChosenGroups), groups fetched concurrently.

    clients: {group id: GraphClient}, one each, because a requests.Session is not meant to be
    shared between threads; context(): entered by each fetching thread (the app context).
    Returns only after every group's last page; the first failure stops the others and raises
    GroupFetchFailed, so a caller never sees part of a selection.
    """
    stop, fetched, totals = threading.Event(), dict.fromkeys([g.id for g in groups], 0), {}

    def fetch_one(group):
        def on_page(count, total):
            if stop.is_set():
                raise _Stopped()
            fetched[group.id], totals[group.id] = count, total
        with context():
            try:
                return fetch_group_users(clients[group.id], group.id, on_page)[0]
            except _Stopped:
                raise
            except Exception as error:
                raise GroupFetchFailed(group, error) from error

    def report():
        if on_progress is not None:
            on_progress(sum(fetched.values()), _known_total(totals, groups))
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(groups))),
                                thread_name_prefix="group-fetch") as pool:
            futures = [pool.submit(fetch_one, group) for group in groups]
            try:
                _wait_for_all(futures, report)
            except BaseException:
                stop.set()  # the pool's exit then waits for the running fetches to stop
                for future in futures:
                    future.cancel()
                raise
    finally:
        report()  # how far it got, also when a group failed
    return _merge(groups, [future.result() for future in futures])


def _wait_for_all(futures, report):
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=PROGRESS_EVERY, return_when=FIRST_EXCEPTION)
        for future in done:
            future.result()  # the first failure raises here
        report()


def _known_total(totals, groups):
    counts = [totals.get(g.id) for g in groups]
    return None if None in counts else sum(counts)


def _merge(groups, results):
    users, memberships = {}, {}
    for group, members in zip(groups, results):
        memberships[group.id] = {user.id for user in members}
        if group.role == SYNC:
            for user in members:
                users.setdefault(user.id, user)
    return Fetched(list(users.values()), memberships)
