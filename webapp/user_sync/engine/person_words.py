"""What Sync this person now says: its outcome in words, its refusals, its audit values.

The outcome is read from the plan the sync's rules made (diff.decide, then resolve_accounts), so
the words say what was applied, with the reason diff.decide gave (reasons.reason_text).
"""
from webapp.microsoft.app_credentials import AppCredentialsRefused
from webapp.microsoft.graph import (
    GraphError, GraphForbidden, GraphGaveUp, GraphUnauthorized)
from webapp.microsoft.identity import ReconnectNeeded
from webapp.microsoft.selection import quoted_names
from webapp.microsoft.tokens import TokenCacheUnreadable
from webapp.user_sync import models as m
from webapp.user_sync.engine.diff import email_of
from webapp.user_sync.reasons import changed_fields_text, reason_text

WITHDRAWN_FROM_REVIEW = ("The review waiting for an answer no longer changes them: "
                         "Apply removals leaves them as they are now.")

def not_in_tenant(asked):
    return (f"Nobody in your Microsoft tenant has the address, sign-in name or id “{asked}”, "
            "and nobody synced has it either. Nothing was changed. Check the spelling, or ask "
            "your Microsoft administrator whether the account exists yet.")


def ambiguous(asked, count):
    return (f"{count} people in your Microsoft tenant have the address “{asked}”, so a sync "
            "skips them (duplicate email) until each has their own. Type one person's sign-in "
            "name (UPN) instead.")


def microsoft_failure(error):
    """Why reading the person from Microsoft failed, and what to do next."""
    if isinstance(error, AppCredentialsRefused):  # the platform's secret: the operators know
        return str(error)
    if isinstance(error, (ReconnectNeeded, TokenCacheUnreadable)):
        return f"{error} Reconnect to Microsoft in Import settings."
    if isinstance(error, (GraphForbidden, GraphUnauthorized)):
        return ("Microsoft refused to read this person or their groups. Reconnect to Microsoft "
                "with an account allowed to read users and groups (see Troubleshooting).")
    if isinstance(error, GraphGaveUp):
        return (f"Microsoft was busy or unavailable for too long (it may be limiting requests). "
                f"{error} Try again in a few minutes.")
    if isinstance(error, GraphError):
        return f"Microsoft returned an error we could not use: {error}"
    if isinstance(error, ConnectionError):
        return f"Microsoft's sign-in service could not be reached ({error}). Try again later."
    raise error


def outcome(plan, person, row, selection):
    """One sentence: what was done for this person and why."""
    name = _name(person, row)
    if plan.adds:
        via = plan.via.get(plan.adds[0][0].microsoft_id)
        return f"Added {name}" + (f", synced through {via}." if via else ".")
    if plan.reinstates:
        return f"Reinstated {name}: they are back in the chosen groups."
    if plan.updates:
        return f"Updated {name}: {changed_fields_text(','.join(plan.updates[0][2]))} now match Microsoft."
    if plan.suspends:
        row_, person_, reason = plan.suspends[0]
        return f"Suspended {name}: {_why(reason, plan, person_, selection)}"
    if plan.skips:
        person_, reason, row_id = plan.skips[0]
        start = "Not added" if row is None or row.user_id is None else "Not changed"
        return f"{start}: {_why(reason, plan, person_, selection)}"
    if plan.keeps:
        return f"Not suspended: {reason_text(plan.keeps[0][2])}"
    return f"Nothing to change: {name} is synced and already matches Microsoft."


def _why(reason, plan, person, selection):
    if reason == m.LEFT_GROUP and person.microsoft_id not in plan.excluded_by:
        return not_in_groups(selection.synced)
    return reason_text(reason, plan.excluded_by.get(person.microsoft_id))


def not_in_groups(synced):
    if len(synced) == 1:
        return f"not in the group “{synced[0].name}” (nor in any group nested inside it)."
    return f"not in any of the chosen groups ({quoted_names(synced)}), nor in any group nested inside them."


def _name(person, row):
    if person is not None:
        return person.display_name or email_of(person) or person.id
    return row.display_name or row.email_normalised


def audit_values(row):
    """What the audit log keeps of the person before and after (an Existing row or None)."""
    if row is None:
        return {"status": "not synced"}
    return {"status": row.status, "email": row.email_normalised, "name": row.display_name,
            "job_title": row.job_title, "department": row.department}
