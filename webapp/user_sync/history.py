"""Sync history: a run's changes and skips, filtered by action and paged."""
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.user_sync import models as m
from webapp.user_sync.engine.record import HIDDEN_ACTIONS
from webapp.users.services import Page

PER_PAGE = 100
ACTIONS = (m.ADD, m.UPDATE, m.REINSTATE, m.SUSPEND, m.SKIP, m.KEEP)


def run_changes(run, action="", page=1, per_page=PER_PAGE):
    stmt = select(m.SyncChange).where(m.SyncChange.run_id == run.id)
    if action in ACTIONS:
        stmt = stmt.where(m.SyncChange.action == action)
    else:
        stmt = stmt.where(m.SyncChange.action.not_in(HIDDEN_ACTIONS))
    total = db.session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(m.SyncChange.id).subquery()))
    page = max(1, min(page, max(1, -(-total // per_page))))
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
    return {"changes": run_changes(run, action, args.get("page", 1, type=int)),
            "action": action, "actions": ACTIONS}
