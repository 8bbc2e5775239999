"""Reading the audit log back in tests."""
import json

from sqlalchemy import select

from webapp.audit.models import AuditEntry
from webapp.extensions import db


def entries(action=None, organisation_id=None):
    db.session.expire_all()
    stmt = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if organisation_id is not None:
        stmt = stmt.where(AuditEntry.organisation_id == organisation_id)
    return db.session.scalars(stmt).all()


def only_entry(action, organisation_id=None):
    found = entries(action, organisation_id)
    assert len(found) == 1, [(e.action, e.after) for e in entries()]
    return found[0]


def values(text):
    return json.loads(text) if text else None
