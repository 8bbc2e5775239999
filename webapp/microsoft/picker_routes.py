"""The group picker pages (views of the `microsoft` blueprint, beside the connect views).

Search and the page buttons post the form back to show more groups without losing the ticks;
Save groups saves it. Preview changes posts the same form to the sync's blueprint (a preview
is a run).
"""
from flask import flash, g, redirect, request, url_for
from flask_login import current_user

from webapp import versions
from webapp.microsoft import groups, picker, selection
from webapp.microsoft.blueprint import bp
from webapp.orgs.access import admin_required


@bp.route("/microsoft/groups")
@admin_required
def groups_page():
    stored = picker.stored_or_flash()
    if stored is None:
        return picker.leave_for_import_settings()
    return picker.render_picker(stored, request.args, picker.ticks_to_show(request.args, stored),
                                versions.current(selection.selection_version(g.organisation)))


@bp.route("/microsoft/groups/refresh", methods=["POST"])
@admin_required
def refresh_groups():
    connection = picker.connection_or_flash()
    if connection is None:
        return redirect(url_for("microsoft.import_microsoft"))
    groups.request_snapshot(connection)
    return redirect(url_for("microsoft.groups_page"))


@bp.route("/microsoft/groups", methods=["POST"])
@admin_required
def save_groups():
    """Save groups, or (Search, pages, a tick) the picker again with the ticks kept."""
    stored = picker.stored_or_flash()
    if stored is None:
        return picker.leave_for_import_settings()
    ticks = picker.Ticks.from_form(request.form)
    if request.form.get("action", "save") != "save":
        return picker.render_picker(stored, request.form, ticks.shown(), picker.posted_version())
    try:
        saved, refusal = picker.with_checked_ticks(stored, ticks, lambda roles, client, names: (
            selection.save_selection(g.organisation, current_user, roles, client,
                                     expected_version=picker.posted_version(), names=names)))
    except versions.ChangedSince as error:
        return _changed_since(stored.connection, ticks, str(error))
    if refusal is not None:
        return refusal
    flash(f"{g.organisation.name} saved its groups. {selection.selection_sentence(saved)}. "
          "Nobody changes until the next sync: press Sync now to start it.", "success")
    return redirect(url_for("microsoft.import_microsoft"))


def _changed_since(connection, ticks, message):
    """Someone saved the groups since this page was drawn: the picker shows the selection as
    it is now (and a version to save over it), and says which ticks were not saved. Read again:
    the other save may have come after this request first read the choices."""
    stored = picker.Stored.load(connection, g.organisation)
    tried = picker.picked_groups(stored, ticks.shown())
    if tried:
        message += " Your ticks were: " + picker.ticks_sentence(tried) + "."
    return picker.render_picker(stored, request.form, stored.ticks(),
                                versions.current(selection.selection_version(g.organisation)),
                                message), 409
