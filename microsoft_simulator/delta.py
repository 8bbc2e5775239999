"""Delta queries for users and groups, read from the directory's change log.

The first round lists every current object, then hands out a deltaLink
holding the change-log position; later rounds return what changed since.
"""
import bisect
import time

from flask import Blueprint, current_app, jsonify, request

from . import odata
from .directory import USER_TYPE
from .errors import GraphError
from .graph import GROUPS_SCOPES, USERS_SCOPES, authenticate, project

bp = Blueprint("delta", __name__, url_prefix="/v1.0")
PAGE_SIZE = 100


def _state():
    return current_app.config["SIM_STATE"]


def _sync_state_not_found():
    return GraphError(410, "syncStateNotFound",
                      "The sync state is not found or has expired. Start a new delta round without a token.")


def _decode(token, kind):
    state = odata.decode_skiptoken(token)
    settings, directory = _state().tenant, _state().directory
    too_old = time.time() - state.get("t", 0) > settings.delta_token_ttl
    if (state.get("k") != kind or state.get("e") != directory.epoch or too_old
            or state.get("t", 0) < settings.delta_tokens_valid_after):
        raise _sync_state_not_found()
    return state


def _changed_ids(kind, since):
    """Objects of this kind touched after change `since`, oldest change first."""
    changes = _state().directory.changes
    start = bisect.bisect_right(changes, since, key=lambda c: c[0])
    wanted = {"users": ("user", "user-deleted"), "groups": ("group", "group-deleted", "member")}[kind]
    ordered = {}
    for _, change_kind, object_id, _detail in changes[start:]:
        if change_kind in wanted:
            ordered.pop(object_id, None)
            ordered[object_id] = None
    return list(ordered)


def _member_changes(group_id, since):
    changes = _state().directory.changes
    start = bisect.bisect_right(changes, since, key=lambda c: c[0])
    latest = {}
    for _, change_kind, object_id, detail in changes[start:]:
        if change_kind == "member" and object_id == group_id:
            latest[detail[0]] = detail[1]
    return latest


def _member_ref(object_id, removed=False):
    obj = _state().directory.objects.get(object_id)
    ref = {"@odata.type": obj["@odata.type"] if obj else USER_TYPE, "id": object_id}
    if removed:
        ref["@removed"] = {"reason": "deleted"}
    return ref


def _render(kind, object_id, select, since):
    directory = _state().directory
    obj = directory.objects.get(object_id)
    if obj is None:
        return {"id": object_id, "@removed": {"reason": "changed" if kind == "users" else "deleted"}}
    item = project(obj, [s for s in select if s != "members"] if select else None)
    item["id"] = object_id
    if kind == "groups" and (select is None or "members" in select):
        if since is None:
            item["members@delta"] = [_member_ref(m) for m in directory.members.get(object_id, [])]
        else:
            changed = _member_changes(object_id, since)
            if changed:
                item["members@delta"] = [_member_ref(m, not added) for m, added in changed.items()]
    return item


def _delta(kind):
    authenticate(*(USERS_SCOPES if kind == "users" else GROUPS_SCOPES))
    directory, args = _state().directory, request.args
    if "$deltatoken" in args or "$skiptoken" in args:
        token = _decode(args.get("$deltatoken") or args.get("$skiptoken"), kind)
    else:
        token = {"k": kind, "e": directory.epoch, "since": None, "o": 0, "t": time.time(),
                 "sel": odata.parse_select(args), "upto": len(directory.changes)}
    if "$deltatoken" in args:
        token = {**token, "since": token["upto"], "o": 0, "upto": len(directory.changes), "t": time.time()}
    since = token["since"]
    ids = (list(directory.user_ids if kind == "users" else directory.group_ids)
           if since is None else _changed_ids(kind, since))
    offset = token["o"]
    page = ids[offset:offset + PAGE_SIZE]
    body = {"@odata.context": f"{_state().base_url}/v1.0/$metadata#{kind}",
            "value": [_render(kind, i, token["sel"], since) for i in page]}
    link = f"{_state().base_url}/v1.0/{kind}/delta()"
    if offset + PAGE_SIZE < len(ids):
        body["@odata.nextLink"] = f"{link}?$skiptoken={odata.encode_skiptoken({**token, 'o': offset + PAGE_SIZE})}"
    else:
        body["@odata.deltaLink"] = f"{link}?$deltatoken={odata.encode_skiptoken({**token, 't': time.time()})}"
    return jsonify(body)


@bp.get("/users/delta")
@bp.get("/users/delta()")
@bp.get("/users/microsoft.graph.delta()")
def users_delta():
    return _delta("users")


@bp.get("/groups/delta")
@bp.get("/groups/delta()")
@bp.get("/groups/microsoft.graph.delta()")
def groups_delta():
    return _delta("groups")
