"""Download data held: one person's data as JSON or a readable HTML file (privacy blueprint)."""
import json

from flask import Response, g, render_template

from webapp.orgs.access import admin_required
from webapp.privacy import data_held_words, subject_access
from webapp.privacy.blueprint import bp


def _download(subject, kind):
    held = subject_access.export(subject)
    name = f"data-held-{subject.organisation.id}-{'-'.join(map(str, subject.person_ids)) or 'account'}"
    if kind == "json":
        body, mimetype = json.dumps(held, indent=2, ensure_ascii=False), "application/json"
    else:
        body = render_template("privacy/data_held.html", held=held, words=data_held_words,
                               organisation=subject.organisation)
        mimetype = "text/html"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{name}.{kind}"'})


@bp.route("/members/<int:membership_id>/data.json", defaults={"kind": "json"})
@bp.route("/members/<int:membership_id>/data.html", defaults={"kind": "html"})
@admin_required
def member_data(membership_id, kind):
    """From Manage users: the person behind one membership of this organisation."""
    return _download(subject_access.subject_for_membership(g.organisation, membership_id), kind)


@bp.route("/synced-people/<int:person_id>/data.json", defaults={"kind": "json"})
@bp.route("/synced-people/<int:person_id>/data.html", defaults={"kind": "html"})
@admin_required
def synced_person_data(person_id, kind):
    """From the synced-people table (someone the sync manages, with or without an account)."""
    return _download(subject_access.subject_for_synced_person(g.organisation, person_id), kind)
