"""Settings › Two-step verification: a school's "Admins must use two-step verification"."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import versions
from webapp.errors import InvalidFields
from webapp.orgs.access import admin_required, org_scoped
from webapp.two_step import policy, status
from webapp.orgs.services import active_admins
from webapp.words import listed

bp = org_scoped(Blueprint("two_step_policy", __name__,
                          url_prefix="/o/<int:org_id>/settings/two-step"))


def _page(status_code=200, entered=None, errors=None, stale=None):
    saved = policy.policy_for(g.organisation.id)
    admins = active_admins(g.organisation)
    return render_template(
        "two_step/policy.html", policy=saved,
        version=versions.current(policy.policy_version(g.organisation.id)),
        entered=entered, errors=errors or {}, stale=stale,
        trust_schools=policy.trust_schools_administered(current_user, g.organisation),
        admins=admins, two_step_of=status.summaries_for([m.user_id for m in admins]),
        you_have_two_step=status.is_on(current_user)), status_code


@bp.route("/")
@admin_required
def page():
    return _page()


@bp.route("/", methods=["POST"])
@admin_required
def save():
    form = request.form
    entered = {"required": form.get("required", ""), "scope": form.get("scope", "")}
    try:
        required, scope = policy.read_form(form)
        changed = policy.save(g.organisation, current_user, required, scope,
                              versions.posted(form))
    except InvalidFields as error:
        return _page(422, entered, error.errors)
    except versions.ChangedSince as error:
        return _page(409, stale=str(error))  # the setting as it is now, as every stale save
    state = "must now use" if required else "no longer have to use"
    flash(f"Admins of {listed(changed)} {state} two-step verification." if changed
          else "Nothing changed: that was already the setting.", "success")
    return redirect(url_for("two_step_policy.page"), 303)
