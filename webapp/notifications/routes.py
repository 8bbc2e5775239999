"""Notifications: each admin chooses which emails they get."""
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.notifications.events import ADMIN_EVENTS
from webapp.notifications.mailer import mail_configured
from webapp.notifications.preferences import (digest_subscription, enabled_events,
                                              save_digest_choice, save_enabled_events)
from webapp.orgs.context import admin_required, org_scoped

bp = org_scoped(Blueprint("notifications", __name__,
                          url_prefix="/o/<int:org_id>/settings/notifications"))


@bp.route("/")
@admin_required
def preferences():
    return render_template("notifications/preferences.html", events=ADMIN_EVENTS,
                           enabled=enabled_events(current_user.id),
                           digest=digest_subscription(current_user.id),
                           administered=sum(1 for m in current_user.active_memberships()
                                            if m.is_admin),
                           mail_configured=mail_configured(current_app.config))


@bp.route("/", methods=["POST"])
@admin_required
def save_preferences():
    save_enabled_events(current_user.id, set(request.form.getlist("events")))
    save_digest_choice(current_user.id, g.organisation.id, request.form.get("weekly_digest") == "1")
    flash("Notifications saved.", "success")
    return redirect(url_for("notifications.preferences"), 303)
