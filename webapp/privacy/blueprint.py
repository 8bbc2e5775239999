"""The privacy blueprint: leaver retention (routes.py) and data held (subject_access_routes.py)."""
from flask import Blueprint

from webapp.orgs.access import org_scoped

bp = org_scoped(Blueprint("privacy", __name__, url_prefix="/o/<int:org_id>/settings/privacy"))
