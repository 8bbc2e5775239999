"""Settings › Activity: the audit log, filtered by action and date, paged, and as CSV.

Read-only by design: there is no route that edits or deletes an entry.
"""
from flask import Blueprint, Response, g, render_template, request

from webapp import audit
from webapp.audit import actions, service
from webapp.audit.filters import activity_filter
from webapp.audit.values import shown_values
from webapp.dates import zone_for
from webapp.orgs.access import admin_required, org_scoped
from webapp.request_input import page_number

bp = org_scoped(Blueprint("audit", __name__, url_prefix="/o/<int:org_id>/settings/activity"))


def activity_page(filters, status=200):
    """The page; a filter with a bad date shows its message by the field and no entries."""
    zone = zone_for(g.organisation)
    entries = None if filters.errors else service.page_of_entries(
        g.organisation.id, page=page_number(request.args), **filters.query(zone))
    return render_template("audit/activity.html", entries=entries, filters=filters, zone=zone,
                           args=filters.args(), labels=actions.LABELS, label=actions.label,
                           shown_values=shown_values), status


@bp.route("/")
@admin_required
def index():
    return activity_page(activity_filter(request.args))


@bp.route("/activity.csv")
@admin_required
def export_csv():
    """Export CSV submits the filter form, so the file holds what the form shows."""
    filters = activity_filter(request.args)
    if filters.errors:
        return activity_page(filters, 400)
    text = service.csv_text(g.organisation.id, **filters.query(zone_for(g.organisation)))
    audit.record(actions.CSV_EXPORTED, g.organisation.id,
                 after={"export": "activity", **filters.args()}, commit=True)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="activity-{g.organisation.id}.csv"'})
