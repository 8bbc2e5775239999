from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from webapp.errors import ServiceError
from webapp.htmx import render_page_or_partial
from webapp.orgs.context import admin_required, org_scoped
from webapp.orgs.models import ROLES
from webapp.search import search_from
from webapp.users import services

bp = org_scoped(Blueprint("users", __name__, url_prefix="/o/<int:org_id>/settings/users"))


@bp.route("/")
@admin_required
def index():
    return people_page()


def people_page(**refused):
    """The page (or its table, for HTMX). refused: a refused form's values and message, shown
    again as sent (add_form and add_error; role_refused) on the page that was left, its search
    and page number included (from the query string, or from the refused form)."""
    values = request.values
    search = search_from(values)
    page = None if search.error else services.list_people(
        g.organisation, search.text, values.get("page", 1, type=int))
    return render_page_or_partial("users/index.html", "users/_people_table.html", people=page,
                                  query=search.text, search=search, roles=ROLES, **refused)


@bp.route("/", methods=["POST"])
@admin_required
def add():
    form = request.form
    sent = {"email": form.get("email", ""), "display_name": form.get("display_name", ""),
            "role": form.get("role", "member")}
    try:
        membership = services.add_person(g.organisation, sent["email"], sent["display_name"],
                                         sent["role"])
    except ServiceError as error:
        return people_page(add_form=sent, add_error=str(error)), 422
    flash(f"Added {membership.user.email} to {g.organisation.name}.", "success")
    return redirect(url_for("users.index"))


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
