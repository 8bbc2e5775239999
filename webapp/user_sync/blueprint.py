"""The Manage user sync blueprint, shared by the screen's views (routes), Sync this person now
(person_routes) and Undo this sync (undo_routes)."""
from flask import Blueprint

from webapp.orgs.access import org_scoped
from webapp.user_sync import filters

bp = org_scoped(Blueprint("user_sync", __name__, url_prefix="/o/<int:org_id>/settings/user-sync"))
filters.register(bp)
