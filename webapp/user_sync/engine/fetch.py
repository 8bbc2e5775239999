"""Fetching the chosen groups' transitive user members from Microsoft Graph, page by page.

Who is a member is read with a plain request that sees every change at once: the uncast
`transitiveMembers` with `$select`, keeping the `#microsoft.graph.user` items ourselves. An OData
cast, `$count`, `$filter` or `$search` on a member list would need `ConsistencyLevel: eventual`,
and that header moves the whole request to an index that may lag recent changes ("Advanced query
capabilities on Microsoft Entra ID objects"; "List group transitive members"). Suspensions are
decided from absence, so the membership itself never comes from the index: only the progress
bar's total does (groups.member_count), which may be a little behind and is only a label.
"""
import queue
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass
from operator import itemgetter

from webapp.microsoft.graph import GraphError
from webapp.microsoft.groups import member_count
from webapp.user_sync.engine.diff import MicrosoftUser
from webapp.user_sync.engine.selection import SYNC

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
    """The index's user count for the progress bar, or None. It may lag; it decides nothing."""
    try:
        return member_count(client, group_id)
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
    on_progress(fetched, total) runs in the calling thread (it writes the run's row), after the
    first page and then at most every PROGRESS_EVERY seconds, while the page's thread waits.
    Returns only after every group's last page; the first failure stops the others and raises
    GroupFetchFailed, so a caller never sees part of a selection.
    """
    progress = _Progress(groups, on_progress)

    def fetch_one(group):
        with context():
            try:
                return fetch_group_users(clients[group.id], group.id,
                                         lambda count, total: progress.page(group, count, total))[0]
            except _Stopped:
                raise
            except Exception as error:
                raise GroupFetchFailed(group, error) from error

    try:
        with ThreadPoolExecutor(max_workers=max(1, min(threads, len(groups))),
                                thread_name_prefix="group-fetch") as pool:
            futures = [pool.submit(fetch_one, group) for group in groups]
            try:
                progress.serve_until_done(futures)
            except BaseException:
                progress.stop_all(futures)  # the pool's exit then waits for the fetches to stop
                raise
    finally:
        progress.report()  # how far it got, also when a group failed
    return _merge(groups, [future.result() for future in futures])


class _Progress:
    """Counts pages from the fetching threads; reports them from the calling thread."""

    def __init__(self, groups, on_progress):
        self.groups, self.on_progress = groups, on_progress
        self.fetched, self.totals = dict.fromkeys([g.id for g in groups], 0), {}
        self.due, self.stopped = queue.Queue(), threading.Event()
        self.lock, self.last = threading.Lock(), 0.0

    def page(self, group, count, total):  # in a fetching thread
        if self.stopped.is_set():
            raise _Stopped()
        self.fetched[group.id], self.totals[group.id] = count, total
        with self.lock:
            report_now = time.monotonic() - self.last >= PROGRESS_EVERY
            if report_now:
                self.last = time.monotonic()
        if report_now and self.on_progress is not None:
            handled = threading.Event()
            self.due.put(handled)
            while not handled.wait(0.1) and not self.stopped.is_set():
                pass

    def serve_until_done(self, futures):
        pending = set(futures)
        while pending:
            try:
                handled = self.due.get(timeout=0.05)
            except queue.Empty:
                handled = None
            if handled is not None:
                try:
                    self.report()
                finally:
                    handled.set()
            done, pending = wait(pending, timeout=0, return_when=FIRST_EXCEPTION)
            for future in done:
                future.result()  # the first failure raises here

    def stop_all(self, futures):
        self.stopped.set()
        for future in futures:
            future.cancel()
        while not self.due.empty():
            self.due.get().set()

    def report(self):
        if self.on_progress is not None:
            self.on_progress(sum(self.fetched.values()), _known_total(self.totals, self.groups))


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
