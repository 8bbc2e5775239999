"""A school's one Status on the Schools page (and in the weekly digest): what needs a person.

Codes are compared, words rendered (status_words). The order is the order of urgency, used to
pick the one status a school shows and to sort by Status: a school that cannot sync at all comes
before one whose syncs fail, which comes before one that merely has not synced lately.
"""
from webapp.microsoft.models import RECONNECT_NEEDED
from webapp.microsoft.selection import NO_GROUP, NOT_CONNECTED

RECONNECT, NEEDS_REVIEW, FAILING = "reconnect", "needs_review", "failing"
STALE, NEVER_SYNCED, OK = "stale", "never_synced", "ok"
ORDER = (NOT_CONNECTED, RECONNECT, NO_GROUP, NEEDS_REVIEW, FAILING, STALE, NEVER_SYNCED, OK)
# How the counts above the table name each status ("38 OK · 1 needs review · 1 failing").
COUNT_WORDS = {NOT_CONNECTED: "not connected", RECONNECT: "reconnect needed",
               NO_GROUP: "no group chosen", NEEDS_REVIEW: "needs review", FAILING: "failing",
               STALE: "no successful sync for 48 hours", NEVER_SYNCED: "never synced", OK: "OK"}
# The connection state codes of user_sync.summary that stop a school syncing.
BLOCKING_STATES = {NOT_CONNECTED: NOT_CONNECTED, RECONNECT_NEEDED: RECONNECT, NO_GROUP: NO_GROUP}


def status_of(state, facts, stale):
    """state: microsoft.selection.connection_state's code; facts: engine.fleet.RunFacts; stale: the 48-hour
    rule (schedule.health) for the school."""
    if state in BLOCKING_STATES:
        return BLOCKING_STATES[state]
    if facts.review_id is not None:
        return NEEDS_REVIEW
    if facts.failing_since is not None:
        return FAILING
    if stale:
        return STALE
    return NEVER_SYNCED if facts.complete_id is None else OK


def needs_attention(status):
    return status != OK


def status_words(row, format_moment):
    """The Status cell's words for a SchoolRow whose runs are loaded (overview.add_shown_details);
    format_moment(moment, school) writes dates."""
    facts = row.facts
    if row.status == NEEDS_REVIEW and facts.review is not None:
        run = facts.review
        return (f"Needs review: would suspend {run.suspended:,}, add {run.added:,} and update "
                f"{run.updated:,}")
    if row.status == FAILING:
        return f"Failing since {format_moment(facts.failing_since, row)}"
    return {NOT_CONNECTED: "Not connected", RECONNECT: "Reconnect needed",
            NO_GROUP: "No group chosen", NEEDS_REVIEW: "Needs review",
            STALE: "No successful sync for 48 hours", NEVER_SYNCED: "Never synced",
            OK: "OK"}[row.status]
