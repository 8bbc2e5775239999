"""The Import settings › Microsoft blueprint, shared by the connect views (routes) and the
group picker (picker_routes), and the one fixed OAuth callback."""
from flask import Blueprint

from webapp.orgs.access import org_scoped

bp = org_scoped(Blueprint("microsoft", __name__,
                          url_prefix="/o/<int:org_id>/settings/user-sync/import"))
callback_bp = Blueprint("microsoft_callback", __name__)
