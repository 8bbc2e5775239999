"""Notifications: each admin chooses which emails they get."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.notifications.events import ADMIN_EVENTS
from webapp.notifications.mailer import mail_configured
from webapp.notifications.preferences import enabled_events, save_enabled_events
from webapp.orgs.context import admin_required, org_scoped

bp = org_scoped(Blueprint("notifications", __name__,
                          url_prefix="/o/<int:org_id>/settings/notifications"))


@bp.route("/")
@admin_required
def preferences():
    return render_template("notifications/preferences.html", events=ADMIN_EVENTS,
                           enabled=enabled_events(current_user.id),
                           mail_configured=mail_configured(current_app.config))


@bp.route("/", methods=["POST"])
@admin_required
def save_preferences():
    save_enabled_events(current_user.id, set(request.form.getlist("events")))
    flash("Notifications saved.", "success")
    return redirect(url_for("notifications.preferences"), 303)
