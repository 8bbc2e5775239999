"""Settings › Activity: the audit log, filtered by action and date, paged, and as CSV.

Read-only by design: there is no route that edits or deletes an entry.
"""
from flask import Blueprint, Response, g, render_template, request

from webapp import audit
from webapp.audit import actions, service
from webapp.orgs.context import admin_required, org_scoped

bp = org_scoped(Blueprint("audit", __name__, url_prefix="/o/<int:org_id>/settings/activity"))


def activity_filters():
    args = request.args
    action = args.get("action", "")
    return dict(action=action if action in actions.LABELS else "",
                day_from=service.parse_day(args.get("from")),
                day_to=service.parse_day(args.get("to")))


def filter_args(filters):
    """The filters as query-string values for links (pages, CSV)."""
    return {"action": filters["action"] or None,
            "from": filters["day_from"].isoformat() if filters["day_from"] else None,
            "to": filters["day_to"].isoformat() if filters["day_to"] else None}


@bp.route("/")
@admin_required
def index():
    filters = activity_filters()
    page = service.page_of_entries(g.organisation.id, page=request.args.get("page", 1, type=int),
                                   **filters)
    return render_template("audit/activity.html", entries=page, filters=filters,
                           args=filter_args(filters), labels=actions.LABELS,
                           label=actions.label, decoded=service.decoded)


@bp.route("/activity.csv")
@admin_required
def export_csv():
    filters = activity_filters()
    text = service.csv_text(g.organisation.id, **filters)
    audit.record(actions.CSV_EXPORTED, g.organisation.id,
                 after={"export": "activity", **filter_args(filters)}, commit=True)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="activity-{g.organisation.id}.csv"'})
