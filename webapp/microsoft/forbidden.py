"""What a 403 from Microsoft Graph means for a connection, in words a school admin can act on.

Graph answers 403 (Authorization_RequestDenied) both when the app lacks a permission and when the
signed-in account itself may not read something: delegated access is the intersection of the
app's permissions and the user's own rights ("Resolve Microsoft Graph authorization errors";
"What are the default user permissions in Microsoft Entra ID?": guests cannot list groups, and a
tenant can stop ordinary accounts reading other users). So consent is blamed only when a needed
permission is missing from what Microsoft granted; otherwise it is the account's directory role.
"""
from dataclasses import dataclass

NEEDED_SCOPES = ("User.Read", "GroupMember.Read.All", "User.Read.All")
CONSENT, ROLE = "consent", "role"


def missing_scopes(connection):
    granted = {scope.rsplit("/", 1)[-1].lower() for scope in (connection.granted_scopes or "").split()}
    return [scope for scope in NEEDED_SCOPES if scope.lower() not in granted]


@dataclass
class Refusal:
    cause: str      # CONSENT or ROLE
    message: str    # what happened
    fix: str        # what to do


def explain(connection, doing):
    """Why Microsoft refused `doing` (e.g. "list the members of “Staff”") for this connection."""
    missing = missing_scopes(connection)
    if missing:
        return Refusal(CONSENT, f"Microsoft refused to {doing}: rostersync has not been granted "
                                f"{', '.join(missing)}.",
                       "Send the approval link to your Microsoft 365 administrator, then Reconnect.")
    return Refusal(ROLE, f"Microsoft refused to {doing}, although rostersync has all its "
                         f"permissions: the connected account {connection.account_email} itself is "
                         "not allowed to (it may be a guest account, or your tenant limits what "
                         "ordinary accounts can read).",
                   f"Ask your Microsoft 365 administrator to give {connection.account_email} the "
                   "Directory Readers role, or Reconnect with an account of your tenant that can "
                   "read groups and people.")
