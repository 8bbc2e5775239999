"""What a delegated token may read: the app's granted scopes and the signed-in user's own rights.

Graph's effective permissions for delegated access are the intersection of the scopes the app
was granted and what the signed-in user may do ("Microsoft Graph permissions reference",
effective permissions). What a user may read by default is Entra's "What are the default user
permissions in Microsoft Entra ID?": members read the directory; guests cannot list all groups
or users (Entra's default "limited" guest access) or see only their own objects ("restricted");
the tenant can stop members reading other users (allowedToReadOtherUsers). A directory role
(Directory Readers, Global Reader, or an administrator) lifts those limits. When an app may not
read a member's type, Graph still lists the member with only its type and id ("limited
information", the permissions overview).
"""
from flask import current_app

from .directory import GROUP_TYPE, USER_TYPE
from .errors import GraphError

USER_READ_SCOPES = {"User.ReadBasic.All", "User.Read.All", "Directory.Read.All"}
GROUP_READ_SCOPES = {"GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"}
OTHER_TYPES = ("#microsoft.graph.device", "#microsoft.graph.orgContact",
               "#microsoft.graph.servicePrincipal")
READER_ROLES = {"Directory Readers", "Global Reader"}


def _state():
    return current_app.config["SIM_STATE"]


def denied():
    return GraphError(403, "Authorization_RequestDenied",
                      "Insufficient privileges to complete the operation.")


def signed_in_user(claims):
    return _state().directory.get_user(claims.get("oid", "")) or {}


def has_reader_role(user):
    return bool(user.get("_admin")) or bool(READER_ROLES & set(user.get("_roles", ())))


def _guest_limits(user):
    """None for members and role holders; else the tenant's guest access setting."""
    if has_reader_role(user) or (user.get("userType") or "").lower() != "guest":
        return None
    access = _state().tenant.guest_access
    return None if access == "member" else access


def require_group_listing(claims):
    """GET /groups: guests without a role may not enumerate the tenant's groups."""
    if _guest_limits(signed_in_user(claims)) is not None:
        raise denied()


def require_group_read(claims):
    """One group and its members: refused only to restricted guests."""
    if _guest_limits(signed_in_user(claims)) == "restricted":
        raise denied()


def may_read_other_users(user):
    if has_reader_role(user):
        return True
    if _guest_limits(user) == "restricted":
        return False
    return _state().tenant.users_can_read_other_users


def require_user_read(claims, target_id=None):
    """GET /users (target_id None) or /users/{id}: one's own profile is always readable."""
    user = signed_in_user(claims)
    if target_id is not None and target_id == user.get("id"):
        return
    if not may_read_other_users(user) or (target_id is None and _guest_limits(user) is not None):
        raise denied()


def readable_member_types(claims):
    """The member types this token sees in full; others come back with only type and id."""
    scopes, user = set(claims.get("scp", "").split()), signed_in_user(claims)
    types = set()
    if scopes & USER_READ_SCOPES and may_read_other_users(user):
        types.add(USER_TYPE)
    if scopes & GROUP_READ_SCOPES:
        types.add(GROUP_TYPE)
    if "Directory.Read.All" in scopes:
        types.update(OTHER_TYPES)
    return types
