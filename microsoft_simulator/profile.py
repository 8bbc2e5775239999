"""Microsoft Graph v1.0: the signed-in user (/me) and their organization."""
from flask import Blueprint, jsonify, request

from . import demo, odata
from .graph import USER_PROPS, _check_select, _context, _directory, authenticate, not_found, project

bp = Blueprint("profile", __name__, url_prefix="/v1.0")

ME_SCOPES = ("User.Read", "User.ReadBasic.All", "User.Read.All", "Directory.Read.All")
ORGANIZATION_SCOPES = ("User.Read", "Organization.Read.All", "Directory.Read.All")
# With User.Read alone Graph fills in only these; every other organization property is null.
ORGANIZATION_USER_READ_PROPS = ("id", "displayName", "verifiedDomains")


@bp.get("/me")
def me():
    claims = authenticate(*ME_SCOPES)
    user = _directory().get_user(claims["oid"])
    if user is None:
        raise not_found(claims["oid"])
    select = odata.parse_select(request.args)
    _check_select(select, USER_PROPS, "microsoft.graph.user")
    return jsonify({"@odata.context": _context("users", select, entity=True), **project(user, select)})


def _organization():
    return {"id": demo.TENANT_ID, "deletedDateTime": None, "businessPhones": [], "city": None,
            "country": None, "countryLetterCode": None, "createdDateTime": None,
            "displayName": demo.TENANT_NAME, "preferredLanguage": None, "tenantType": None,
            "technicalNotificationMails": [],
            "verifiedDomains": [{"capabilities": "Email, OfficeCommunicationsOnline",
                                 "isDefault": True, "isInitial": False, "name": demo.TENANT_DOMAIN,
                                 "type": "Managed"}]}


@bp.get("/organization")
def organization():
    """GET /organization: a collection holding the signed-in user's one organization."""
    claims = authenticate(*ORGANIZATION_SCOPES)
    found = _organization()
    if not set(claims.get("scp", "").split()) & {"Organization.Read.All", "Directory.Read.All"}:
        found = {k: (v if k in ORGANIZATION_USER_READ_PROPS else None) for k, v in found.items()}
    select = odata.parse_select(request.args)
    _check_select(select, found, "microsoft.graph.organization")
    if select:
        found = {k: found[k] for k in select}
    return jsonify({"@odata.context": _context("organization", select), "value": [found]})
