"""The index behind advanced queries: what a `ConsistencyLevel: eventual` read sees.

Microsoft Graph serves advanced queries ($count, $search, casts on transitive members, `ne`,
`endsWith`, ...) from a separately indexed store that may lag recent changes (Graph: "Advanced
query capabilities on Microsoft Entra ID objects"; "List group transitive members", request
headers). Plain reads see every change at once. Here every change of the directory is
remembered as a snapshot that becomes visible to index-backed reads `lag` seconds later.
"""
import collections
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Snapshot:
    """The directory's readable state at one moment; lists and dicts are never changed after."""
    version: int
    objects: dict
    user_ids: list
    group_ids: list
    members: dict
    transitive: dict
    transitive_users: dict
    upn_index: dict = field(default_factory=dict)

    def get(self, object_id):
        obj = self.objects.get(object_id)
        if obj is None and isinstance(object_id, str):
            uid = self.upn_index.get(object_id.lower())
            obj = self.objects.get(uid) if uid else None
        return obj

    def get_user(self, key):
        obj = self.get(key)
        return obj if obj and obj["@odata.type"] == "#microsoft.graph.user" else None

    def get_group(self, key):
        obj = self.objects.get(key)
        return obj if obj and obj["@odata.type"] == "#microsoft.graph.group" else None

    def member_ids(self, group_id, transitive=False):
        return (self.transitive if transitive else self.members).get(group_id, [])

    def transitive_user_ids(self, group_id):
        return self.transitive_users.get(group_id, [])


class SearchIndex:
    def __init__(self):
        self.lock = threading.Lock()
        self.pending = collections.deque()  # (visible at, Snapshot), oldest first
        self.current = None                 # None: the index has caught up with the directory

    def before_change(self, snapshot_of, lag_seconds):
        """Index-backed reads keep seeing the state from before a change while it lags."""
        with self.lock:
            if lag_seconds > 0 and self.current is None and not self.pending:
                self.current = snapshot_of()

    def after_change(self, snapshot_of, lag_seconds):
        """Index-backed reads see the change lag_seconds from now (at once with no lag)."""
        with self.lock:
            if lag_seconds <= 0:
                self.pending.clear()
                self.current = None
            else:
                self.pending.append((time.time() + lag_seconds, snapshot_of()))

    def view(self, live):
        """What an index-backed read sees now: `live` once every change has reached the index."""
        with self.lock:
            now = time.time()
            while self.pending and self.pending[0][0] <= now:
                self.current = self.pending.popleft()[1]
            if not self.pending:
                self.current = None
            return live if self.current is None else self.current
