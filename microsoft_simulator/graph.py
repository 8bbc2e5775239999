"""Microsoft Graph v1.0: users, groups and membership lists."""
import time
import urllib.parse

from flask import Blueprint, Response, current_app, jsonify, request

from . import access, odata
from .directory import GROUP_TYPE, USER_TYPE
from .errors import GraphError
from .faults import member_page_served, page_fault
from .tokens import GRAPH_AUDIENCES

bp = Blueprint("graph", __name__, url_prefix="/v1.0")

USER_DEFAULT_SELECT = ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
                       "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"]
USER_PROPS = set(USER_DEFAULT_SELECT) | {"accountEnabled", "userType", "department", "companyName",
                                         "employeeId", "createdDateTime", "otherMails", "proxyAddresses",
                                         "onPremisesImmutableId", "onPremisesSyncEnabled", "mailNickname"}
GROUP_DEFAULT_SELECT = ["id", "deletedDateTime", "classification", "createdDateTime", "description",
                        "displayName", "groupTypes", "mail", "mailEnabled", "mailNickname",
                        "membershipRule", "membershipRuleProcessingState", "onPremisesSyncEnabled",
                        "securityEnabled", "visibility"]
GROUP_PROPS = set(GROUP_DEFAULT_SELECT) | {"securityIdentifier", "proxyAddresses", "expirationDateTime"}
CASTS = {"microsoft.graph.user": USER_TYPE, "microsoft.graph.group": GROUP_TYPE,
         "microsoft.graph.device": "#microsoft.graph.device",
         "microsoft.graph.orgContact": "#microsoft.graph.orgContact",
         "microsoft.graph.servicePrincipal": "#microsoft.graph.servicePrincipal"}
USERS_SCOPES = ("User.ReadBasic.All", "User.Read.All", "Directory.Read.All")
GROUPS_SCOPES = ("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All")


def _state():
    return current_app.config["SIM_STATE"]


def unauthorized(message):
    return GraphError(401, "InvalidAuthenticationToken", message, {
        "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                            'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'})


def authenticate(*any_of_scopes):
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise unauthorized("Access token is empty.")
    try:
        claims = _state().signer.verify(header[7:].strip())
    except ValueError as exc:
        raise unauthorized(str(exc))
    if claims.get("aud") not in GRAPH_AUDIENCES:
        raise unauthorized("Access token validation failure. Invalid audience.")
    now = time.time()
    if claims.get("exp", 0) < now or claims.get("nbf", 0) > now + 300:
        raise unauthorized("Lifetime validation failed, the token is expired.")
    granted = set(claims.get("scp", "").split())
    if any_of_scopes and not granted.intersection(any_of_scopes):
        raise GraphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    return claims


def not_found(object_id):
    return GraphError(404, "Request_ResourceNotFound", f"Resource '{object_id}' does not exist or one of "
                      "its queried reference-property objects are not present.")


def _check_select(select, known, type_name):
    for prop in select or ():
        if prop not in known:
            raise odata.bad_request(f"Could not find a property named '{prop}' on type '{type_name}'.")


def project(obj, select, with_type=False, readable=None):
    """obj as Graph returns it; a type outside `readable` (member lists) keeps only its type and
    id, every other property null (Graph's "limited information")."""
    kind = obj["@odata.type"]
    if select is None:
        default = USER_DEFAULT_SELECT if kind == USER_TYPE else GROUP_DEFAULT_SELECT if kind == GROUP_TYPE else None
        keys = default or [k for k in obj if not k.startswith(("_", "@"))]
    else:
        known = USER_PROPS if kind == USER_TYPE else GROUP_PROPS if kind == GROUP_TYPE else obj
        keys = [k for k in select if k in known or k in obj]
    limited = readable is not None and kind not in readable
    out = {"@odata.type": kind} if with_type else {}
    for key in keys:
        out[key] = obj.get(key) if not limited or key == "id" else None
    if limited:
        out["id"] = obj["id"]
    return out


def eventual():
    return request.headers.get("ConsistencyLevel", "").lower() == "eventual"


def _directory():
    """Plain reads see every change at once; ConsistencyLevel: eventual reads see the index,
    which may lag (see index.py)."""
    directory = _state().directory
    return directory.index_view() if eventual() else directory


def count_response(ids):
    """A $count path segment: plain text, and only with the advanced-query header."""
    if not eventual():
        raise odata.bad_request("$count is not currently supported.")
    return Response(str(len(ids)), mimetype="text/plain")


def _context(entity_set, select, entity=False):
    suffix = f"({','.join(select)})" if select else ""
    return f"{_state().base_url}/v1.0/$metadata#{entity_set}{suffix}" + ("/$entity" if entity else "")


def _next_link(offset, page):
    """The request's URL with an opaque $skiptoken that holds percent-encoded characters, as
    Graph's X%27...%27 tokens do (here an encoded "~", which a client that re-encodes the URL
    would turn back into "~": "Paging Microsoft Graph data" asks for the URL as given)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "$skiptoken"]
    query = urllib.parse.urlencode(args, quote_via=urllib.parse.quote, safe="$,()'=:*")
    token = odata.encode_skiptoken({"o": offset, "p": page}) + odata.SKIPTOKEN_TAIL
    return f"{_state().base_url}{request.path}?{query + '&' if query else ''}$skiptoken={token}"


def _resolved_ids(directory, base_key, base_ids, cast, args):
    """Apply cast/filter/search/orderby once per query and directory version."""
    if not any([cast, args.get("$filter"), args.get("$search"), args.get("$orderby")]):
        return base_ids
    key = (directory.version, base_key, cast, args.get("$filter"), args.get("$search"), args.get("$orderby"))
    cache = current_app.config.setdefault("SIM_QUERY_CACHE", {})
    if key in cache:
        return cache[key]
    objects = [directory.objects[i] for i in base_ids if i in directory.objects]
    if cast:
        objects = [o for o in objects if o["@odata.type"] == cast]
    if args.get("$filter"):
        predicate, _ = odata.parse_filter(args["$filter"])
        objects = [o for o in objects if predicate(o)]
    if args.get("$search"):
        matches = odata.parse_search(args["$search"])
        objects = [o for o in objects if matches(o)]
    if args.get("$orderby"):
        sort_key, reverse = odata.parse_orderby(args["$orderby"])
        objects.sort(key=sort_key, reverse=reverse)
    if len(cache) > 256:
        cache.clear()
    cache[key] = [o["id"] for o in objects]
    return cache[key]


def _position(args):
    """Where this page starts ("o") and its number ("p", 1 = the request without $skiptoken)."""
    return odata.decode_skiptoken(args["$skiptoken"]) if "$skiptoken" in args else {"o": 0, "p": 1}


def list_response(directory, base_key, base_ids, entity_set, is_member_list=False, cast=None,
                  known=None, type_name=None, readable=None):
    args = request.args
    top = odata.parse_top(args)
    select = odata.parse_select(args)
    if known:
        _check_select(select, known, type_name)
    want_count = odata.check_advanced(args, eventual(), is_member_list)
    position = _position(args)
    page_fault(position["p"])
    ids = _resolved_ids(directory, base_key, base_ids, cast, args)
    offset = position["o"]
    objects = directory.objects
    page = [project(objects[i], select, is_member_list, readable)
            for i in ids[offset:offset + top] if i in objects]
    body = {"@odata.context": _context(entity_set, select)}
    if want_count:
        body["@odata.count"] = len(ids)
    if offset + top < len(ids):
        body["@odata.nextLink"] = _next_link(offset + top, position["p"] + 1)
    body["value"] = page
    return jsonify(body)


@bp.get("/users")
def users():
    access.require_user_read(authenticate(*USERS_SCOPES))
    directory = _directory()
    return list_response(directory, "users", directory.user_ids, "users",
                         known=USER_PROPS, type_name="microsoft.graph.user")


@bp.get("/users/<user_id>")
def user(user_id):
    claims = authenticate(*USERS_SCOPES)
    if user_id == "$count":
        access.require_user_read(claims)
        return count_response(_directory().user_ids)
    found = _directory().get_user(user_id)
    if found is None:
        raise not_found(user_id)
    access.require_user_read(claims, found["id"])
    select = odata.parse_select(request.args)
    _check_select(select, USER_PROPS, "microsoft.graph.user")
    return jsonify({"@odata.context": _context("users", select, entity=True), **project(found, select)})


@bp.get("/groups")
def groups():
    access.require_group_listing(authenticate(*GROUPS_SCOPES))
    directory = _directory()
    return list_response(directory, "groups", directory.group_ids, "groups",
                         known=GROUP_PROPS, type_name="microsoft.graph.group")


def _group_or_404(directory, group_id):
    found = directory.get_group(group_id)
    if found is None:
        raise not_found(group_id)
    return found


@bp.get("/groups/<group_id>")
def group(group_id):
    claims = authenticate(*GROUPS_SCOPES)
    directory = _directory()
    if group_id == "$count":
        access.require_group_listing(claims)
        return count_response(directory.group_ids)
    access.require_group_read(claims)
    found = _group_or_404(directory, group_id)
    select = odata.parse_select(request.args)
    _check_select(select, GROUP_PROPS, "microsoft.graph.group")
    return jsonify({"@odata.context": _context("groups", select, entity=True), **project(found, select)})


def _member_ids(directory, group_id, relation, cast):
    """(cache key, ids, entity set, type filter) of a member list, cast or not."""
    transitive = relation == "transitiveMembers"
    if cast is None:
        return (relation, group_id), directory.member_ids(group_id, transitive), "directoryObjects", None
    if cast.startswith("graph."):
        cast = "microsoft." + cast  # Graph accepts the short namespace alias the official SDKs send
    if cast not in CASTS:
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{cast}'.")
    entity_set = cast.rsplit(".", 1)[-1] + "s"
    if cast == "microsoft.graph.user" and transitive:
        # Precomputed, so a page of a 50,000-member list is a slice.
        return (relation, group_id, "users"), directory.transitive_user_ids(group_id), entity_set, None
    return (relation, group_id), directory.member_ids(group_id, transitive), entity_set, CASTS[cast]


def _member_list_request(group_id, relation, cast):
    if relation not in ("members", "transitiveMembers"):
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{relation}'.")
    claims = authenticate(*GROUPS_SCOPES)
    access.require_group_read(claims)
    directory = _directory()
    _group_or_404(directory, group_id)
    if cast not in (None, "$count"):
        _member_ids(directory, group_id, relation, cast)  # an unknown type is a bad segment first
    # "List group transitive members": an OData cast needs ConsistencyLevel: eventual and $count.
    if cast not in (None, "$count") and relation == "transitiveMembers" and not (
            eventual() and request.args.get("$count", "").lower() == "true"):
        raise odata.unsupported(odata.CAST_NEEDS_ADVANCED)
    return claims, directory


@bp.get("/groups/<group_id>/<relation>")
@bp.get("/groups/<group_id>/<relation>/<cast>")
def group_members(group_id, relation, cast=None):
    claims, directory = _member_list_request(group_id, relation, cast)
    if cast == "$count":
        return count_response(_member_ids(directory, group_id, relation, None)[1])
    key, ids, entity_set, type_filter = _member_ids(directory, group_id, relation, cast)
    response = list_response(directory, key, ids, entity_set, is_member_list=True,
                             cast=type_filter, readable=access.readable_member_types(claims))
    if cast is None:  # the plain read of the members, not a cast count
        member_page_served(group_id, _position(request.args)["p"])
    return response


@bp.get("/groups/<group_id>/<relation>/<cast>/$count")
def group_members_count(group_id, relation, cast):
    _, directory = _member_list_request(group_id, relation, "$count")
    key, ids, _, type_filter = _member_ids(directory, group_id, relation, cast)
    return count_response(_resolved_ids(directory, key, ids, type_filter, request.args))
