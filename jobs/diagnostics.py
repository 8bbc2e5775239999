"""Small jobs that prove a worker is wired up (used by tests and the Troubleshooting page)."""
from sqlalchemy import func, select

from jobs.context import with_app_context
from webapp.extensions import db
from webapp.orgs.models import Membership


@with_app_context
def count_people(organisation_id):
    return db.session.scalar(select(func.count(Membership.id)).where(
        Membership.organisation_id == organisation_id))
