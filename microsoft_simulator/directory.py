"""In-memory directory: users, groups and other directory objects.

Transitive member lists are precomputed per group so that serving a page
is a slice, never a walk over the tenant. Every change is appended to a
change log that delta queries read.
"""
import functools
import threading
import time

from .index import SearchIndex, Snapshot

USER_TYPE = "#microsoft.graph.user"
GROUP_TYPE = "#microsoft.graph.group"

USER_DEFAULTS = dict(accountEnabled=True, userType="Member", businessPhones=[], mobilePhone=None,
                     officeLocation=None, preferredLanguage=None, givenName=None, surname=None,
                     jobTitle=None, department=None, mail=None)
GROUP_DEFAULTS = dict(description=None, groupTypes=[], mail=None, mailEnabled=False,
                      securityEnabled=True, membershipRule=None, membershipRuleProcessingState=None,
                      visibility=None, classification=None, onPremisesSyncEnabled=None,
                      createdDateTime="2024-09-01T08:00:00Z", deletedDateTime=None)


def _indexed(method):
    """A change: plain reads see it at once, index-backed reads after the tenant's index lag."""
    @functools.wraps(method)
    def change(self, *args, **kwargs):
        with self.lock:
            lag = self.index_lag()
            self.index.before_change(self.snapshot, lag)
            result = method(self, *args, **kwargs)
            self.index.after_change(self.snapshot, lag)
            return result
    return change


class Directory:
    def __init__(self):
        self.lock = threading.RLock()
        self.objects = {}          # id -> dict (public props + "@odata.type" + private "_x")
        self.user_ids = []         # listing order
        self.group_ids = []
        self.upn_index = {}
        self.members = {}          # group id -> direct member ids
        self.parents = {}          # object id -> set of group ids
        self.transitive = {}       # group id -> all transitive member ids
        self.transitive_users = {}
        self.dynamic_rules = {}
        self.version = 0
        self.changes = []          # (seq, kind, id, detail)
        self.epoch = time.time()
        self.index = SearchIndex()
        self.index_lag = lambda: 0.0  # seconds; SimState points this at the tenant's setting

    def snapshot(self):
        return Snapshot(self.version, dict(self.objects), list(self.user_ids), list(self.group_ids),
                        dict(self.members), self.transitive, self.transitive_users,
                        dict(self.upn_index))

    def index_view(self):
        """What `ConsistencyLevel: eventual` reads see (this directory once the index caught up)."""
        return self.index.view(self)

    # ----- reads -----
    def get(self, object_id):
        obj = self.objects.get(object_id)
        if obj is None and isinstance(object_id, str):
            uid = self.upn_index.get(object_id.lower())
            obj = self.objects.get(uid) if uid else None
        return obj

    def get_user(self, key):
        obj = self.get(key)
        return obj if obj and obj["@odata.type"] == USER_TYPE else None

    def get_group(self, key):
        obj = self.objects.get(key)
        return obj if obj and obj["@odata.type"] == GROUP_TYPE else None

    def member_ids(self, group_id, transitive=False):
        return (self.transitive if transitive else self.members).get(group_id, [])

    def transitive_user_ids(self, group_id):
        return self.transitive_users.get(group_id, [])

    def counts(self):
        return {"users": len(self.user_ids), "groups": len(self.group_ids),
                "objects": len(self.objects), "changes": len(self.changes)}

    # ----- building -----
    def add_user(self, user, record=True):
        obj = {**USER_DEFAULTS, **user, "@odata.type": USER_TYPE}
        self.objects[obj["id"]] = obj
        self.user_ids.append(obj["id"])
        self.upn_index[obj["userPrincipalName"].lower()] = obj["id"]
        if record:
            self._touch("user", obj["id"])
        return obj

    def add_group(self, group, record=True):
        obj = {**GROUP_DEFAULTS, **group, "@odata.type": GROUP_TYPE}
        self.objects[obj["id"]] = obj
        self.group_ids.append(obj["id"])
        self.members.setdefault(obj["id"], [])
        if record:
            self._touch("group", obj["id"])
        return obj

    def add_other(self, obj):
        self.objects[obj["id"]] = dict(obj)

    def set_members(self, group_id, ids):
        """Bulk load used while building a tenant (no change log, no recompute)."""
        self.members[group_id] = list(dict.fromkeys(ids))
        for oid in self.members[group_id]:
            self.parents.setdefault(oid, set()).add(group_id)

    def set_dynamic_rule(self, group_id, rule):
        self.dynamic_rules[group_id] = rule
        self.set_members(group_id, [u for u in self.user_ids if rule(self.objects[u])])

    def finish_build(self):
        transitive, users = {}, {}
        for gid in self.group_ids:
            self._compute(gid, set(), transitive, users)
        self.transitive, self.transitive_users = transitive, users
        self.version += 1

    def _compute(self, gid, visiting, transitive, users):
        if gid in transitive:
            return transitive[gid]
        visiting.add(gid)
        found = {}
        for oid in self.members.get(gid, []):
            found[oid] = None
            if oid in self.members and oid not in visiting:
                found.update(dict.fromkeys(self._compute(oid, visiting, transitive, users)))
        visiting.discard(gid)
        found.pop(gid, None)
        result = list(found)
        transitive[gid] = result
        users[gid] = [i for i in result if self.objects.get(i, {}).get("@odata.type") == USER_TYPE]
        return result

    def _recompute_from(self, group_ids):
        """Rebuild the changed groups and their ancestors into new dicts, then swap them in,
        so readers on other threads never see a half-updated list."""
        stale, queue = set(), list(group_ids)
        while queue:
            gid = queue.pop()
            if gid not in stale:
                stale.add(gid)
                queue.extend(self.parents.get(gid, ()))
        transitive = {g: v for g, v in self.transitive.items() if g not in stale}
        users = {g: v for g, v in self.transitive_users.items() if g not in stale}
        for gid in stale:
            if gid in self.members:
                self._compute(gid, set(), transitive, users)
        self.transitive, self.transitive_users = transitive, users
        self.version += 1

    # ----- mutations (control API) -----
    def _touch(self, kind, object_id, detail=None):
        self.changes.append((len(self.changes) + 1, kind, object_id, detail))
        self.version += 1

    @_indexed
    def add_member(self, group_id, object_id):
        with self.lock:
            if object_id in self.members[group_id]:
                return False
            self.members[group_id] = self.members[group_id] + [object_id]
            self.parents.setdefault(object_id, set()).add(group_id)
            self._touch("member", group_id, (object_id, True))
            self._recompute_from([group_id])
            return True

    @_indexed
    def remove_member(self, group_id, object_id):
        with self.lock:
            if object_id not in self.members[group_id]:
                return False
            self.members[group_id] = [m for m in self.members[group_id] if m != object_id]
            self.parents.get(object_id, set()).discard(group_id)
            self._touch("member", group_id, (object_id, False))
            self._recompute_from([group_id])
            return True

    @_indexed
    def create_group(self, group, member_ids):
        with self.lock:
            obj = self.add_group(group)
            self.set_members(obj["id"], member_ids)
            self._recompute_from([obj["id"]])
            return obj["id"]

    @_indexed
    def delete_group(self, group_id):
        with self.lock:
            parents = list(self.parents.pop(group_id, ()))
            for parent in parents:
                self.members[parent] = [m for m in self.members[parent] if m != group_id]
            for oid in self.members.pop(group_id, []):
                self.parents.get(oid, set()).discard(group_id)
            del self.objects[group_id]
            self.group_ids = [g for g in self.group_ids if g != group_id]
            self._touch("group-deleted", group_id)
            self._recompute_from(parents)

    @_indexed
    def delete_user(self, user_id):
        with self.lock:
            user = self.objects.pop(user_id)
            self.upn_index.pop(user["userPrincipalName"].lower(), None)
            self.user_ids = [u for u in self.user_ids if u != user_id]
            parents = list(self.parents.pop(user_id, ()))
            for parent in parents:
                self.members[parent] = [m for m in self.members[parent] if m != user_id]
                self._touch("member", parent, (user_id, False))
            self._touch("user-deleted", user_id)
            self._recompute_from(parents)

    @_indexed
    def update_user(self, user_id, fields):
        with self.lock:
            user = self.objects[user_id]
            if "userPrincipalName" in fields:
                self.upn_index.pop(user["userPrincipalName"].lower(), None)
                self.upn_index[fields["userPrincipalName"].lower()] = user_id
            self.objects[user_id] = {**user, **fields}
            self._touch("user", user_id)
            self._apply_dynamic_rules(user_id)

    @_indexed
    def create_user(self, fields):
        with self.lock:
            self.add_user(fields)
            self._apply_dynamic_rules(fields["id"])
            return fields["id"]

    def _apply_dynamic_rules(self, user_id):
        for gid, rule in self.dynamic_rules.items():
            wanted = rule(self.objects[user_id])
            if wanted and user_id not in self.members[gid]:
                self.add_member(gid, user_id)
            elif not wanted and user_id in self.members[gid]:
                self.remove_member(gid, user_id)
