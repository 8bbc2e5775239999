"""Graph's checkMemberGroups action: which of up to 20 given groups an object is a member of.

    POST /v1.0/users/{id | userPrincipalName}/checkMemberGroups   {"groupIds": [...]}

As Microsoft documents it (api/directoryobject-checkmembergroups): transitive (nested groups
count), at most 20 group ids per request, and the answer is the subset of the given ids the
object is a member of, as {"@odata.context": ...#Collection(Edm.String), "value": [...]}.
For another user it needs a user-reading scope and a group-reading one together
(User.ReadBasic.All or User.Read.All, with GroupMember.Read.All or Group.Read.All), or
Directory.Read.All.
"""
from flask import Blueprint, current_app, jsonify, request

from .errors import GraphError
from .graph import GROUPS_SCOPES, USERS_SCOPES, authenticate, not_found

bp = Blueprint("graph_membership", __name__, url_prefix="/v1.0")
MAX_GROUP_IDS = 20


def _directory():
    return current_app.config["SIM_STATE"].directory


def _requested_group_ids():
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("groupIds"), list) \
            or not all(isinstance(i, str) for i in body["groupIds"]):
        raise GraphError(400, "Request_BadRequest",
                         "The request body must hold groupIds, a collection of strings.")
    ids = body["groupIds"]
    if len(ids) > MAX_GROUP_IDS:
        raise GraphError(400, "Request_BadRequest", f"At most {MAX_GROUP_IDS} group ids can be "
                         f"checked in one request; {len(ids)} were given.")
    return ids


def _member_of(object_id, group_ids):
    """The given groups (in the order given, each once) the object is a transitive member of.
    An id that is no group of the tenant is simply not in the answer."""
    directory, answer = _directory(), []
    with directory.lock:
        for group_id in dict.fromkeys(group_ids):
            if directory.get_group(group_id) is not None \
                    and object_id in directory.member_ids(group_id, transitive=True):
                answer.append(group_id)
    return answer


def _answer(object_id):
    group_ids = _requested_group_ids()
    base = current_app.config["SIM_STATE"].base_url
    return jsonify({"@odata.context": f"{base}/v1.0/$metadata#Collection(Edm.String)",
                    "value": _member_of(object_id, group_ids)})


def _needs_group_scope(claims):
    granted = set(claims.get("scp", "").split())
    if not granted & set(GROUPS_SCOPES):
        raise GraphError(403, "Authorization_RequestDenied",
                         "Insufficient privileges to complete the operation.")


@bp.post("/users/<user_key>/checkMemberGroups")
def user_check_member_groups(user_key):
    _needs_group_scope(authenticate(*USERS_SCOPES))
    user = _directory().get_user(user_key)
    if user is None:
        raise not_found(user_key)
    return _answer(user["id"])

