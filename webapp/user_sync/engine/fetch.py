"""Fetching the chosen groups' transitive user members from Microsoft Graph, page by page.

Who is a member is read with a plain request that sees every change at once: the uncast
`transitiveMembers` with `$select`, keeping the `#microsoft.graph.user` items ourselves. An OData
cast, `$count`, `$filter` or `$search` on a member list would need `ConsistencyLevel: eventual`,
and that header moves the whole request to an index that may lag recent changes ("Advanced query
capabilities on Microsoft Entra ID objects"; "List group transitive members"). Suspensions are
decided from absence, so the membership itself never comes from the index: only the progress
bar's total does (groups.member_count), which may be a little behind and is only a label.
"""
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass
from operator import itemgetter

from webapp.microsoft.graph import GraphError
from webapp.microsoft.groups import member_count
from webapp.microsoft.selection import SYNC_MEMBERS
from webapp.user_sync.engine.diff import MicrosoftUser

SELECT = ("id", "displayName", "mail", "userPrincipalName", "jobTitle", "department",
          "accountEnabled", "userType")
PAGE_SIZE = 999
USER_TYPE = "#microsoft.graph.user"


def members_path(group_id):
    """Every transitive member (users, nested groups, devices, contacts...): a plain read."""
    return f"/groups/{group_id}/transitiveMembers"


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
    total = progress_total(client, group_id)
    params = {"$select": ",".join(SELECT), "$top": str(PAGE_SIZE)}
    users = []
    for page in client.iter_pages(members_path(group_id), params=params):
        users.extend(_users_of(page.get("value", ())))
        if on_page is not None:
            on_page(len(users), total if total is None else max(total, len(users)))
    return users, total


def progress_total(client, group_id):
    """The index's user count for the progress bar, or None. It may lag; it decides nothing, so
    it is asked once: throttled or failing, it gives up at once rather than spend the waits the
    member list may need (the client's total wait budget)."""
    try:
        return member_count(client.without_retries(), group_id)
    except GraphError:
        return None


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
    The fetching threads only count pages; on_progress(fetched, total) runs in the calling
    thread (it writes the run's row), which wakes at least every PROGRESS_EVERY seconds to report
    what changed. Returns only after every group's last page; the first failure stops the others
    and raises GroupFetchFailed, so a caller never sees part of a selection.
    """
    progress = _Progress(groups)

    def fetch_one(group):
        with context():
            try:
                return fetch_group_users(clients[group.id], group.id,
                                         lambda count, total: progress.page(group, count, total))[0]
            except _Stopped:
                raise
            except Exception as error:
                raise GroupFetchFailed(group, error) from error

    report = _reporter(progress, on_progress)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(groups))),
                                thread_name_prefix="group-fetch") as pool:
            futures = [pool.submit(fetch_one, group) for group in groups]
            try:
                _wait_reporting(futures, report)
            except BaseException:
                progress.stop(futures)  # the pool's exit then waits for the fetches to stop
                raise
    finally:
        report()  # how far it got, also when a group failed
    return _merge(groups, [future.result() for future in futures])


def _wait_reporting(futures, report):
    """Waits for every fetch, reporting after each wait; the first failure raises here."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=PROGRESS_EVERY, return_when=FIRST_EXCEPTION)
        for future in done:
            future.result()
        report()


def _reporter(progress, on_progress):
    """on_progress with the counts as they are now, skipped when nothing moved since the last."""
    last = [None]

    def report():
        counts = progress.counts()
        if on_progress is not None and counts != last[0]:
            last[0] = counts
            on_progress(*counts)
    return report


class _Progress:
    """Pages counted by the fetching threads, read by the calling thread."""

    def __init__(self, groups):
        self.groups, self.lock, self.stopped = groups, threading.Lock(), threading.Event()
        self.fetched, self.totals = dict.fromkeys([g.id for g in groups], 0), {}

    def page(self, group, count, total):  # in a fetching thread
        if self.stopped.is_set():
            raise _Stopped()
        with self.lock:
            self.fetched[group.id], self.totals[group.id] = count, total

    def counts(self):
        """(users fetched so far, the groups' known total or None)."""
        with self.lock:
            return sum(self.fetched.values()), _known_total(self.totals, self.groups)

    def stop(self, futures):
        self.stopped.set()
        for future in futures:
            future.cancel()


def _known_total(totals, groups):
    counts = [totals.get(g.id) for g in groups]
    return None if None in counts else sum(counts)


def _merge(groups, results):
    users, memberships = {}, {}
    for group, members in zip(groups, results):
        memberships[group.id] = {user.id for user in members}
        if group.role == SYNC_MEMBERS:
            for user in members:
                users.setdefault(user.id, user)
    return Fetched(list(users.values()), memberships)
