"""Sync history: a run's changes and skips, filtered by action and paged."""
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.listing import Page, page_within
from webapp.request_input import page_number
from webapp.user_sync import models as m
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
    """'Automatic', or who pressed the button: 'Sync now by Jo Bloggs'."""
    if run.is_automatic:
        return "Automatic"
    who = run.started_by.name_or_email if run.started_by else "a deleted account"
    return f"{'Preview' if run.kind == m.KIND_PREVIEW else 'Sync now'} by {who}"


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
            "action": action, "actions": ACTIONS}
