"""Notifications: each admin chooses which emails they get."""
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import versions
from webapp.notifications.events import ADMIN_EVENTS
from webapp.notifications.mailer import mail_configured
from webapp.notifications.preferences import (digest_subscription, enabled_events,
                                              preferences_version, save_choices)
from webapp.orgs.access import admin_required, org_scoped

bp = org_scoped(Blueprint("notifications", __name__,
                          url_prefix="/o/<int:org_id>/settings/notifications"))


@bp.route("/")
@admin_required
def preferences():
    return _preferences_page(_current_version())


def _current_version():
    return versions.current(preferences_version(current_user.id, g.organisation.id))


def _preferences_page(version, changed=None):
    """The choices as saved (after a refused save too: as they are now)."""
    return render_template("notifications/preferences.html", events=ADMIN_EVENTS,
                           enabled=enabled_events(current_user.id),
                           digest=digest_subscription(current_user.id),
                           administered=sum(1 for m in current_user.active_memberships()
                                            if m.is_admin),
                           version=version, changed=changed,
                           mail_configured=mail_configured(current_app.config))


@bp.route("/", methods=["POST"])
@admin_required
def save_preferences():
    try:
        save_choices(current_user.id, g.organisation.id, set(request.form.getlist("events")),
                     request.form.get("weekly_digest") == "1",
                     expected_version=versions.posted(request.form))
    except versions.ChangedSince as error:
        # Saved in another tab since: the choices as they are now, and when they changed.
        return _preferences_page(_current_version(), str(error)), 409
    flash("Notifications saved.", "success")
    return redirect(url_for("notifications.preferences"), 303)
