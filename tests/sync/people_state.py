"""Everything the platform holds about a school's synced people, to compare before and after:
each synced_people row with its membership and platform account, keyed by Microsoft id."""
from sqlalchemy import select

from webapp.auth.models import User
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.user_sync import models as m

PEOPLE, MEMBERSHIPS, USERS = m.SyncedPerson.__table__, Membership.__table__, User.__table__


def school_state(org, leaving_out=()):
    """{microsoft id: (person row, membership row, account row)} of everyone but leaving_out."""
    db.session.expire_all()
    joined = (PEOPLE.outerjoin(MEMBERSHIPS, MEMBERSHIPS.c.id == PEOPLE.c.membership_id)
              .outerjoin(USERS, USERS.c.id == MEMBERSHIPS.c.user_id))
    rows = db.session.execute(select(PEOPLE, MEMBERSHIPS, USERS).select_from(joined)
                              .where(PEOPLE.c.organisation_id == org.id)).all()
    width_people, width_memberships = len(PEOPLE.columns), len(MEMBERSHIPS.columns)
    state = {}
    for row in rows:
        values = tuple(row)
        person = values[:width_people]
        state[person[PEOPLE.columns.keys().index("microsoft_id")]] = (
            person, values[width_people:width_people + width_memberships],
            values[width_people + width_memberships:])
    return {key: value for key, value in state.items() if key not in leaving_out}
