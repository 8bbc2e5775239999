"""Download data held: one person's data as JSON or a readable HTML file (privacy blueprint)."""
import json

from flask import Response, g, render_template

from webapp.orgs.context import admin_required
from webapp.privacy import subject_access
from webapp.privacy.routes import bp


def _download(subject, kind):
    held = subject_access.export(subject)
    name = f"data-held-{subject.organisation.id}-{'-'.join(map(str, subject.person_ids)) or 'account'}"
    if kind == "json":
        body, mimetype = json.dumps(held, indent=2, ensure_ascii=False), "application/json"
    else:
        body, mimetype = render_template("privacy/data_held.html", held=held), "text/html"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{kind}"'})


@bp.route("/members/<int:membership_id>/data.json")
@admin_required
def member_data_json(membership_id):
    return _download(subject_access.subject_for_membership(g.organisation, membership_id), "json")


@bp.route("/members/<int:membership_id>/data.html")
@admin_required
def member_data_html(membership_id):
    return _download(subject_access.subject_for_membership(g.organisation, membership_id), "html")


@bp.route("/synced-people/<int:person_id>/data.json")
@admin_required
def synced_person_data_json(person_id):
    return _download(subject_access.subject_for_synced_person(g.organisation, person_id), "json")


@bp.route("/synced-people/<int:person_id>/data.html")
@admin_required
def synced_person_data_html(person_id):
    return _download(subject_access.subject_for_synced_person(g.organisation, person_id), "html")
