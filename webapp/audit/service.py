"""Writing audit entries (record) and reading them back for the Activity page and its CSV.

record() adds the entry to the caller's transaction, so the entry and the change it describes
commit (or roll back) together; commit=True is for callers with nothing else to commit.
"""
import csv
import io
import json
import re
from datetime import timezone

from flask import has_request_context, request
from sqlalchemy import delete, exists, insert, or_, select

from webapp.audit.actions import INSTALLATION_ACTIONS, label
from webapp.audit.models import ORIGIN_CLI, ORIGIN_JOB, ORIGIN_WEB, AuditEntry
from webapp.audit.values import changes_nothing
from webapp.csv_safety import safe_cell
from webapp.extensions import db
from webapp.logs import job_id_var, redact, request_id_var
from webapp.orgs.models import Membership

SECRET_NAME = re.compile(r"(?i)password|secret|token|assertion|authorization|cookie|key")
PER_PAGE = 50
CSV_HEADER = ("time_utc", "action", "who", "who_user_id", "about", "before", "after",
              "request_id", "ip", "origin")


def record(action, organisation_id=None, *, before=None, after=None, actor=None,
           actor_email=None, subject_user_id=None, subject_synced_person_id=None,
           subject_label=None, commit=False):
    """Adds one audit entry. actor: the User acting (default: the signed-in user, if any).
    A settings save that changed nothing adds none (returns None)."""
    if changes_nothing(action, before, after):
        return None
    entry = AuditEntry(**_entry_values(
        action, organisation_id, before=before, after=after, actor=actor,
        actor_email=actor_email, subject_user_id=subject_user_id,
        subject_synced_person_id=subject_synced_person_id, subject_label=subject_label))
    db.session.add(entry)
    if commit:
        db.session.commit()
    return entry


def record_many(action, entries, actor=None):
    """One entry per dict of `entries` (organisation_id, before, after, ...), in the caller's
    transaction, as one executemany: for the tick, which starts a thousand syncs at once."""
    entries = [entry for entry in entries
               if not changes_nothing(action, entry.get("before"), entry.get("after"))]
    if entries:
        db.session.execute(insert(AuditEntry.__table__), [
            _entry_values(action, actor=actor, **entry) for entry in entries])


def _entry_values(action, organisation_id=None, *, before=None, after=None, actor=None,
                  actor_email=None, subject_user_id=None, subject_synced_person_id=None,
                  subject_label=None):
    actor = actor if actor is not None else _current_actor()
    return dict(
        organisation_id=organisation_id, action=action,
        actor_user_id=getattr(actor, "id", None),
        actor_email=(actor_email or getattr(actor, "email", None) or None),
        origin=_origin(), subject_user_id=subject_user_id,
        subject_synced_person_id=subject_synced_person_id,
        subject_label=(subject_label or None) and subject_label[:512],
        before=_as_json(before), after=_as_json(after),
        request_id=request_id_var.get() or job_id_var.get(),
        ip=request.remote_addr if has_request_context() else None)


def _current_actor():
    if not has_request_context():
        return None
    from flask_login import current_user
    return current_user._get_current_object() if current_user.is_authenticated else None


def _origin():
    if has_request_context():
        return ORIGIN_WEB
    return ORIGIN_JOB if job_id_var.get() else ORIGIN_CLI


def _as_json(values):
    """Values with secret-looking names are dropped and strings masked, whoever passes them."""
    if values is None:
        return None
    clean = {key: redact(value) if isinstance(value, str) else value
             for key, value in values.items() if not SECRET_NAME.search(str(key))}
    return json.dumps(clean, sort_keys=True, default=str)


# ----- reading -----

def entries_for(organisation_id, action="", since=None, until=None):
    """This organisation's entries, its members' sign-ins (those carry no organisation), and
    actions on the whole installation (the token encryption key rotated); since (inclusive)
    and until (exclusive) are aware moments (ActivityFilter.query: the school's days)."""
    members = select(Membership.id).where(Membership.organisation_id == organisation_id,
                                          Membership.user_id == AuditEntry.actor_user_id)
    unscoped = AuditEntry.organisation_id.is_(None)
    stmt = select(AuditEntry).where(or_(
        AuditEntry.organisation_id == organisation_id,
        unscoped & AuditEntry.action.in_(INSTALLATION_ACTIONS),
        unscoped & exists(members)))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until:
        stmt = stmt.where(AuditEntry.created_at < until)
    return stmt


def page_of_entries(organisation_id, page=1, per_page=PER_PAGE, **filters):
    from sqlalchemy import func
    from webapp.listing import Page
    stmt = entries_for(organisation_id, **filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    page = max(1, min(page, max(1, -(-total // per_page))))
    rows = db.session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(per_page)
                              .offset((page - 1) * per_page)).all()
    return Page(items=rows, page=page, per_page=per_page, total=total)


def csv_text(organisation_id, **filters):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    stmt = entries_for(organisation_id, **filters).order_by(AuditEntry.id.desc())
    for entry in db.session.scalars(stmt.execution_options(yield_per=2000)):
        writer.writerow([safe_cell(value) for value in (
            _utc(entry.created_at).isoformat(), label(entry.action), entry.actor_email or "",
            entry.actor_user_id or "", entry.subject_label or "", entry.before or "",
            entry.after or "", entry.request_id or "", entry.ip or "", entry.origin)])
    return buffer.getvalue()


def _utc(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def prune_entries_before(cutoff):
    """Removes entries older than the configured retention (run by the erasure job only)."""
    result = db.session.execute(delete(AuditEntry).where(AuditEntry.created_at < cutoff),
                                execution_options={"synchronize_session": False})
    return result.rowcount
