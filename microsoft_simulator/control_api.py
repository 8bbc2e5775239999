"""The simulator's own control API under /_simulator (never part of Microsoft's surface)."""
import dataclasses
import time
import uuid

from flask import Blueprint, current_app, jsonify, request

from . import demo
from .state import Faults

bp = Blueprint("control", __name__, url_prefix="/_simulator")
TENANT_SETTINGS = ("admin_consent_required", "token_lifetime", "delta_token_ttl", "index_lag_seconds",
                   "users_can_read_other_users", "guest_access")
GUEST_ACCESS = {"member", "limited", "restricted"}
USER_FIELDS = {"displayName", "givenName", "surname", "mail", "userPrincipalName", "jobTitle", "department",
               "accountEnabled", "userType", "officeLocation", "mobilePhone", "businessPhones",
               "companyName", "employeeId"}


def _state():
    return current_app.config["SIM_STATE"]


def _body():
    return request.get_json(silent=True) or {}


def _problem(status, message):
    response = jsonify({"error": message})
    response.status_code = status
    return response


@bp.post("/reset")
def reset():
    body = _body()
    team_size = body.get("team_size")
    if team_size is not None and (type(team_size) is not int or team_size < 1):
        return _problem(400, f"team_size must be a positive whole number, not {team_size!r}")
    seconds = _state().reset(body.get("users"), body.get("groups"), team_size)
    current_app.config.pop("SIM_QUERY_CACHE", None)
    return jsonify({"ok": True, "build_seconds": round(seconds, 3), **_state().directory.counts()})


@bp.post("/faults")
def set_faults():
    known = {f.name for f in dataclasses.fields(Faults)}
    body = _body()
    unknown = set(body) - known
    if unknown:
        return _problem(400, f"unknown fault settings: {sorted(unknown)}")
    state = _state()
    with state.lock:
        state.faults = Faults(**body)
    return jsonify(state.faults.as_dict())


@bp.post("/faults/clear")
def clear_faults():
    state = _state()
    with state.lock:
        state.faults = Faults()
    return jsonify(state.faults.as_dict())


@bp.get("/faults")
def get_faults():
    return jsonify(_state().faults.as_dict())


def _user_or_404(key):
    return _state().directory.get_user(key)


@bp.post("/users/<path:key>/revoke-refresh-tokens")
def revoke_refresh_tokens(key):
    user = _user_or_404(key)
    if user is None:
        return _problem(404, f"no user {key}")
    return jsonify({"revoked": _state().tokens.revoke_user(user["id"])})


@bp.post("/refresh-tokens/expire")
def expire_refresh_tokens():
    key = _body().get("user")
    user = _user_or_404(key) if key else None
    if key and user is None:
        return _problem(404, f"no user {key}")
    return jsonify({"expired": _state().tokens.expire_user(user["id"] if user else None)})


@bp.post("/users")
def create_user():
    fields = _body()
    unknown = set(fields) - USER_FIELDS - {"id", "password", "admin", "roles"}
    if unknown or "userPrincipalName" not in fields:
        return _problem(400, f"userPrincipalName required; unknown fields {sorted(unknown)}")
    directory = _state().directory
    if directory.get_user(fields["userPrincipalName"]):
        return _problem(409, "userPrincipalName already exists")
    user = {k: v for k, v in fields.items() if k in USER_FIELDS}
    user.setdefault("displayName", fields["userPrincipalName"].split("@")[0])
    user.setdefault("mail", fields["userPrincipalName"])
    user["id"] = fields.get("id") or str(uuid.uuid4())
    if "password" in fields:
        user["_password"] = fields["password"]
    user["_admin"] = bool(fields.get("admin"))
    user["_roles"] = list(fields.get("roles") or [])
    directory.create_user(user)
    return jsonify({"id": user["id"]}), 201


@bp.post("/users/<path:key>/update")
def update_user(key):
    user = _user_or_404(key)
    fields = _body()
    if user is None:
        return _problem(404, f"no user {key}")
    unknown = set(fields) - USER_FIELDS - {"admin", "roles"}
    if unknown:
        return _problem(400, f"unknown user fields {sorted(unknown)}")
    if "admin" in fields:  # a Global Administrator, or no longer one
        fields["_admin"] = bool(fields.pop("admin"))
    if "roles" in fields:
        fields["_roles"] = list(fields.pop("roles") or [])
    _state().directory.update_user(user["id"], fields)
    return jsonify({"ok": True})


@bp.post("/users/<path:key>/delete")
def delete_user(key):
    user = _user_or_404(key)
    if user is None:
        return _problem(404, f"no user {key}")
    _state().directory.delete_user(user["id"])
    return jsonify({"ok": True})


@bp.post("/groups")
def create_group():
    """A new group: displayName, kind (security, mail-security, distribution, unified), members
    (ids of users or groups, nested groups allowed) and optionally its id."""
    body = _body()
    kind, members = body.get("kind", "security"), body.get("members", [])
    if kind not in ("security", "mail-security", "distribution", "unified") or not body.get("displayName"):
        return _problem(400, "displayName required; kind one of security, mail-security, distribution, unified")
    directory = _state().directory
    missing = [m for m in members if directory.get(m) is None]
    if missing:
        return _problem(404, f"no directory objects {missing}")
    group = demo._group(body.get("id") or str(uuid.uuid4()), body["displayName"], kind)
    return jsonify({"id": directory.create_group(group, members)}), 201


@bp.post("/groups/<group_id>/delete")
def delete_group(group_id):
    if _state().directory.get_group(group_id) is None:
        return _problem(404, f"no group {group_id}")
    _state().directory.delete_group(group_id)
    return jsonify({"ok": True})


@bp.post("/groups/<group_id>/members/<action>")
def change_member(group_id, action):
    directory, object_id = _state().directory, _body().get("object_id", "")
    if directory.get_group(group_id) is None:
        return _problem(404, f"no group {group_id}")
    member = directory.get(object_id)
    if member is None:
        return _problem(404, f"no directory object {object_id}")
    if action == "add":
        changed = directory.add_member(group_id, member["id"])
    elif action == "remove":
        changed = directory.remove_member(group_id, member["id"])
    else:
        return _problem(404, f"unknown action {action}")
    return jsonify({"changed": changed})


@bp.post("/tenant")
def set_tenant():
    state, body = _state(), _body()
    settings = state.tenant
    if body.get("guest_access", "limited") not in GUEST_ACCESS:
        return _problem(400, f"guest_access must be one of {sorted(GUEST_ACCESS)}")
    for name in TENANT_SETTINGS:
        if name in body:
            setattr(settings, name, body[name])
    if body.get("revoke_admin_consent"):
        state.tokens.tenant_consents.clear()
    if body.get("forget_user_consent"):
        state.tokens.user_consents.clear()
    if body.get("remove_app"):  # Enterprise applications › the app › Properties › Delete
        state.tokens.remove_app(demo.CLIENT_ID)
    if "app_enabled" in body:  # the app › Properties › Enabled for users to sign-in
        state.tokens.set_app_enabled(demo.CLIENT_ID, bool(body["app_enabled"]))
    for uri in body.get("redirect_uris", []):
        state.clients[demo.CLIENT_ID]["redirect_uris"].append(uri)
    return jsonify(dataclasses.asdict(settings))


@bp.post("/client")
def set_client():
    """The demo app registration's client secret: secret_expired makes the token endpoint refuse
    it with AADSTS7000222, as Entra does once the secret's end date passes."""
    body, client = _body(), _state().clients[demo.CLIENT_ID]
    unknown = set(body) - {"secret_expired"}
    if unknown:
        return _problem(400, f"unknown client settings: {sorted(unknown)}")
    if "secret_expired" in body:
        client["secret_expired"] = bool(body["secret_expired"])
    return jsonify({"secret_expired": client["secret_expired"]})


@bp.post("/delta-tokens/expire")
def expire_delta_tokens():
    _state().tenant.delta_tokens_valid_after = time.time()
    return jsonify({"ok": True})


@bp.get("/requests")
def request_log():
    return jsonify({"requests": list(_state().request_log)})


@bp.post("/requests/clear")
def clear_request_log():
    _state().request_log.clear()
    return jsonify({"ok": True})


@bp.get("/stats")
def stats():
    state = _state()
    return jsonify({"uptime_seconds": round(time.time() - state.started, 1), "users_generated": state.users,
                    "groups_generated": state.groups, "team_size": state.team_size,
                    "refresh_tokens": len(state.tokens.refresh_tokens), **state.directory.counts(),
                    "counters": dict(state.counters), "faults": state.faults.as_dict(),
                    "tenant": dataclasses.asdict(state.tenant)})
