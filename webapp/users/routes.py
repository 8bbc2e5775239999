from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.errors import InvalidFields, ServiceError
from webapp.htmx import render_page_or_partial
from webapp.invitations import services as invitations
from webapp.orgs.access import admin_required, org_scoped
from webapp.orgs.models import ROLES
from webapp.request_input import page_number
from webapp.search import search_from
from webapp.two_step import status as two_step_status
from webapp.two_step.reset import beyond_reach_refusal, schools_beyond_reach
from webapp.two_step.reset import reset_two_step as reset_two_step_of
from webapp.users import services

bp = org_scoped(Blueprint("users", __name__, url_prefix="/o/<int:org_id>/settings/users"))


@bp.route("/")
@admin_required
def index():
    return people_page()


def people_page(**refused):
    """The page (or its table, for HTMX). refused: a refused form's values and messages, shown
    again as sent (add_form and add_errors; role_refused) on the page that was left, its search
    and page number included (from the query string, or from the refused form)."""
    values = request.values
    search = search_from(values)
    page = None if search.error else services.list_people(
        g.organisation, search.text, page_number(values))
    states = invitations.invitation_states(g.organisation, page.items) if page else {}
    user_ids = [m.user_id for m in page.items] if page else []
    two_step = two_step_status.summaries_for(user_ids) if page else {}
    reset_refused = schools_beyond_reach(current_user, user_ids) if page else {}
    return render_page_or_partial("users/index.html", "users/_people_table.html", people=page,
                                  query=search.text, search=search, roles=ROLES,
                                  invitations=states, two_step=two_step,
                                  reset_refused=reset_refused, **refused)


@bp.route("/", methods=["POST"])
@admin_required
def add():
    form = {name: request.form.get(name, "") for name in ("email", "display_name", "role")}
    try:
        membership, outcome = services.add_person(g.organisation, form["email"],
                                                  form["display_name"], form["role"] or "member",
                                                  added_by=current_user)
    except InvalidFields as error:
        # The page again, each message by its field and the form as it was; nothing saved.
        return people_page(add_form=form, add_errors=error.errors), 422
    message = invitations.sent_message(membership.user.email, g.organisation.name, outcome,
                                       current_app.config)
    flash(f"Added {membership.user.email} to {g.organisation.name}. {message}", "success")
    return redirect(url_for("users.index"))


@bp.route("/<int:membership_id>/invitation/resend", methods=["POST"])
@admin_required
def resend_invitation(membership_id):
    membership = services.get_membership(g.organisation, membership_id)
    try:
        invitations.resend(g.organisation, membership, current_user)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(invitations.sent_message(membership.user.email, g.organisation.name,
                                       invitations.INVITED, current_app.config)
              + " The earlier link no longer works.", "success")
    return redirect(url_for("users.index", q=request.form.get("q") or None), 303)


@bp.route("/<int:membership_id>/invitation/cancel", methods=["POST"])
@admin_required
def cancel_invitation(membership_id):
    membership = services.get_membership(g.organisation, membership_id)
    try:
        email = invitations.cancel(g.organisation, membership, current_user)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(f"Cancelled the invitation of {email} and took them off {g.organisation.name}. "
              "Their link no longer works.", "success")
    return redirect(url_for("users.index", q=request.form.get("q") or None), 303)


@bp.route("/<int:membership_id>/role", methods=["POST"])
@admin_required
def change_role(membership_id):
    role = request.form.get("role")
    try:
        membership = services.change_role(g.organisation, membership_id, role)
    except ServiceError as error:
        return people_page(role_refused={"membership_id": membership_id, "role": role,
                                         "error": str(error)}), 422
    flash(f"{membership.user.name_or_email} is now {membership.role}.", "success")
    return redirect(url_for("users.index", q=request.form.get("q") or None,
                            page=request.form.get("page", type=int)))


@bp.route("/<int:membership_id>/remove")
@admin_required
def confirm_remove(membership_id):
    membership = services.get_membership(g.organisation, membership_id)
    return render_template("users/remove.html", membership=membership,
                           **services.removal_consequences(g.organisation, membership))


@bp.route("/<int:membership_id>/remove", methods=["POST"])
@admin_required
def remove(membership_id):
    if request.form.get("confirmed") != "1":  # an old page's one-click button: ask first
        return redirect(url_for("users.confirm_remove", membership_id=membership_id), 303)
    try:
        name = services.remove_person(g.organisation, membership_id)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(f"Removed {name} from {g.organisation.name}.", "success")
    return redirect(url_for("users.index"))


@bp.route("/<int:membership_id>/two-step/reset")
@admin_required
def confirm_reset_two_step(membership_id):
    membership = services.get_membership(g.organisation, membership_id)
    return render_template("users/reset_two_step.html", membership=membership,
                           two_step=two_step_status.summaries_for([membership.user_id])
                           .get(membership.user_id),
                           refusal=beyond_reach_refusal(current_user, membership.user))


@bp.route("/<int:membership_id>/two-step/reset", methods=["POST"])
@admin_required
def reset_two_step(membership_id):
    if request.form.get("confirmed") != "1":  # ask first
        return redirect(url_for("users.confirm_reset_two_step", membership_id=membership_id), 303)
    membership = services.get_membership(g.organisation, membership_id)
    try:
        done = reset_two_step_of(membership.user, current_user, g.organisation)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(f"Reset the two-step verification of {done.email}: removed {done.describe()} and "
              "signed their account out everywhere. We've emailed them.", "success")
    return redirect(url_for("users.index"), 303)
