"""Sync history: a run's changes and skips, filtered by action and paged."""
import csv
import io

from flask import g
from sqlalchemy import func, select

from webapp.csv_safety import safe_cell
from webapp.extensions import db
from webapp.listing import Page, page_within
from webapp.request_input import page_number
from webapp.user_sync import models as m, reasons
from webapp.user_sync.engine import undo, undo_plan
from webapp.microsoft.selection import Selection
from webapp.user_sync.engine.prior import prior_values
from webapp.user_sync.engine.record import HIDDEN_ACTIONS

PER_PAGE = 100
ACTIONS = (m.ADD, m.UPDATE, m.REINSTATE, m.SUSPEND, m.SKIP, m.KEEP)


TRIGGERS = (m.TRIGGER_AUTOMATIC, m.TRIGGER_MANUAL)


def recent_runs(organisation_id, trigger="", limit=200):
    """The history list, optionally only Automatic runs or only those an admin started."""
    stmt = select(m.SyncRun).where(m.SyncRun.organisation_id == organisation_id)
    if trigger in TRIGGERS:
        stmt = stmt.where(m.SyncRun.trigger == trigger)
    return db.session.scalars(stmt.order_by(m.SyncRun.id.desc()).limit(limit)).all()


def started_by_text(run):
    """'Automatic', or who pressed which button: 'Jo Bloggs, with Sync now', 'Jo Bloggs, with
    Preview changes', 'Undo of the sync of 3 Dec 2026, 14:38 GMT, by Jo Bloggs'."""
    if run.is_automatic:
        return "Automatic"
    if run.kind == m.KIND_UNDO:
        return undo.title(run, g.get("organisation"))
    who = run.started_by.name_or_email if run.started_by else "a deleted account"
    if run.kind == m.KIND_PERSON:
        return f"{who}, with Sync this person now, for {run.subject}"
    return f"{who}, with {'Preview changes' if run.kind == m.KIND_PREVIEW else 'Sync now'}"


def undo_refusal(run):
    """None when the run page may offer Undo this sync, else the reason it cannot."""
    return undo_plan.refusal(run)


def run_changes(run, action="", page=1, per_page=PER_PAGE):
    stmt = select(m.SyncChange).where(m.SyncChange.run_id == run.id)
    if action in ACTIONS:
        stmt = stmt.where(m.SyncChange.action == action)
    else:
        stmt = stmt.where(m.SyncChange.action.not_in(HIDDEN_ACTIONS))
    total = db.session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(m.SyncChange.id).subquery()))
    page = page_within(page, total, per_page)
    items = db.session.scalars(stmt.order_by(m.SyncChange.id).limit(per_page)
                               .offset((page - 1) * per_page)).all()
    return Page(items=items, page=page, per_page=per_page, total=total)


def review_suspensions(run, limit=200):
    """Who a run in review would suspend (the first `limit`; the run page lists them all)."""
    return db.session.scalars(select(m.SyncChange).where(
        m.SyncChange.run_id == run.id, m.SyncChange.action == m.SUSPEND)
        .order_by(m.SyncChange.display_name).limit(limit)).all()


def detail_context(run, args):
    action = args.get("action", "")
    return {"changes": run_changes(run, action, page_number(args)),
            "action": action, "actions": ACTIONS, "run_groups": run_groups(run)}


def run_groups(run):
    """The groups the run fetched: Selection (synced and excluded) from the run's own record;
    None for a run recorded before selections were kept (its group_name says which synced)."""
    return Selection.from_json(run.selection) if run.selection else None


CHANGES_CSV_HEADER = ("what", "reason", "email", "display_name", "job_title", "department",
                      "fields_changed", "microsoft_id", "status_before", "email_before",
                      "display_name_before", "job_title_before", "department_before")


def changes_csv_rows(run):
    """A run's change log as CSV text: each change, and the person's values just before it
    (from the run's before values; empty for someone the run added)."""
    priors = prior_values(run.id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CHANGES_CSV_HEADER)
    stmt = select(m.SyncChange).where(m.SyncChange.run_id == run.id,
                                      m.SyncChange.action.not_in(HIDDEN_ACTIONS))
    for change in db.session.scalars(stmt.order_by(m.SyncChange.id)):
        before = priors.get(change.synced_person_id)
        writer.writerow([safe_cell(v) for v in (
            reasons.action_label(change.action), reasons.reason_text(change.reason, change.detail)
            if change.reason else "", change.email, change.display_name, change.job_title,
            change.department, change.detail if change.action in (m.UPDATE, m.REINSTATE) else "",
            change.microsoft_id, *_before_cells(before))])
    return buffer.getvalue()


def _before_cells(before):
    if before is None:
        return ("", "", "", "", "")
    return (before.status, before.email, before.display_name, before.job_title, before.department)
