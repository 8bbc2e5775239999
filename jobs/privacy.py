"""The daily data-protection job (quick queue): erase due leavers, prune the audit log."""
from jobs.context import with_app_context


@with_app_context
def erase_due_job(as_of_iso=None):
    """as_of_iso: an ISO-8601 moment to erase as of (tests, catch-up); default now."""
    from webapp.privacy.cli import parse_as_of
    from webapp.privacy.erasure import erase_due_everywhere
    result = erase_due_everywhere(parse_as_of(as_of_iso))
    return {"audit_entries_removed": result["audit_entries_removed"],
            "people_erased": sum(a.get("people", 0) for a in result["organisations"].values())}
