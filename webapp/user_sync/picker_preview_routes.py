"""Preview changes on the group picker: a preview run of the ticked groups, not saved.

The picker's form (webapp.microsoft.picker) posts here from its Preview changes button
(formaction); a refusal shows the picker again exactly as the admin left it.
"""
from flask import flash, g, redirect, request, url_for
from flask_login import current_user

from webapp.microsoft import picker
from webapp.microsoft.selection import checked_selection, same_groups, selection_sentence
from webapp.orgs.access import admin_required
from webapp.user_sync.blueprint import bp
from webapp.user_sync.engine import lifecycle
from webapp.user_sync.models import KIND_PREVIEW


@bp.route("/import/microsoft/groups/preview", methods=["POST"])
@admin_required
def preview_groups():
    stored = picker.stored_or_flash()
    if stored is None:
        return picker.leave_for_import_settings()
    proposed, refusal = picker.with_checked_ticks(
        stored, picker.Ticks.from_form(request.form),
        lambda roles, client, names: checked_selection(roles, client, names)[0])
    if refusal is not None:
        return refusal
    run, started = lifecycle.start_run(g.organisation, current_user, KIND_PREVIEW,
                                       selection=proposed)
    if started and same_groups(proposed, stored.selection()):
        flash(f"Previewing the saved groups ({selection_sentence(proposed)}). The "
              "preview changes nobody.", "info")
    elif started:
        flash(f"Previewing {selection_sentence(proposed)} (not saved). The preview "
              "changes nobody; save the groups when it looks right.", "info")
    else:
        flash("A sync is already running for this organisation; preview when it has finished.",
              "warning")
    return redirect(url_for("user_sync.index", _anchor="sync-live"), 303)
