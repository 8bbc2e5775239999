"""The words of each email: what happened, what to do, and the page to do it on.

Rendered from templates/notifications/mail.txt and mail.html; the HTML one autoescapes, so a
hostile group or person name arrives as text. Only what the run recorded goes in: never a token,
secret or password.
"""
import json
from dataclasses import dataclass, field
from typing import Callable

from flask import current_app, url_for

from webapp.notifications import events as e


@dataclass
class Mail:
    subject: str
    headline: str
    paragraphs: list = field(default_factory=list)
    action_label: str = ""
    action_url: str = ""
    notifications_url: str = ""


@dataclass
class PreparedMail:
    """A mail ready to go, what to commit before it goes (a link in it must already work when
    it arrives) and what to record once the mail server has taken it. renderer: (text, html)
    of the mail, this module's render unless the mail has its own templates."""
    recipients: list
    mail: object
    after_sent: Callable = field(default=lambda now: None)
    before_send: Callable = field(default=lambda: None)
    renderer: Callable = None

    def rendered(self):
        return (self.renderer or render)(self.mail)


def external_url(endpoint, **values):
    """An absolute link from PUBLIC_URL (a mail has no request to take the host from)."""
    with current_app.test_request_context("/", base_url=current_app.config["PUBLIC_URL"]):
        return url_for(endpoint, _external=True, **values)


def compose(row, organisation=None, secret_notice=None):
    payload = json.loads(row.payload or "{}")
    if row.event == e.SECRET_EXPIRY:
        return Mail(subject="rostersync: the Microsoft client secret needs renewing",
                    headline=secret_notice or payload.get("message", ""),
                    paragraphs=["Until a new secret is set, schools cannot connect or sync."])
    if row.event == e.APP_CREDENTIALS:
        return Mail(subject="rostersync: Microsoft refuses the platform's app credentials",
                    headline=payload.get("message", ""),
                    paragraphs=["Every school's sync fails until this is fixed; schools were told "
                                "only that the operators know (reconnecting cannot help them). "
                                "Fix the secret, then run `flask --app wsgi microsoft check`: "
                                "its successful token request resumes automatic syncs."])
    name = organisation.name
    sync_url = external_url("user_sync.index", org_id=organisation.id)
    mail = _school_mail(row.event, name, payload, organisation)
    mail.action_url = mail.action_url or sync_url
    mail.notifications_url = external_url("notifications.preferences", org_id=organisation.id)
    return mail


def _school_mail(event, name, payload, organisation):
    reason = payload.get("reason") or ""
    if event == e.SYNC_FAILED:
        return Mail(f"Automatic sync failed for {name}", f"The automatic sync of {name} failed.",
                    [f"What happened: {reason}", "Nobody was added, changed or suspended. It is "
                     "retried automatically; if the reason needs a person, fix it and press Sync now."],
                    "Open Manage user sync")
    if event == e.RECONNECT_NEEDED:
        return Mail(f"Reconnect {name} to Microsoft", f"Microsoft refused rostersync's access for {name}.",
                    [f"What happened: {reason}", "Automatic sync is paused and will not contact "
                     "Microsoft again until an admin reconnects."],
                    "Reconnect in Import settings",
                    external_url("microsoft.import_microsoft", org_id=organisation.id))
    if event == e.NEEDS_REVIEW:
        held = payload.get("reason") or "More than the safety limit."
        return Mail(f"Review the automatic sync of {name}",
                    f"The automatic sync of {name} would suspend {payload.get('suspend', 0):,} "
                    "people, so it stopped for review.",
                    [f"Why: {held.split(' Nothing has been changed yet')[0]}",
                     f"It would also add {payload.get('add', 0):,}, update "
                     f"{payload.get('update', 0):,} and reinstate {payload.get('reinstate', 0):,}. "
                     "Nothing has been changed yet.", "Check the list, then choose Apply removals "
                     "or Cancel this sync (nobody changes). Automatic sync is paused until you "
                     "decide."], "Review the changes")
    if event == e.NO_RECENT_SUCCESS:
        return Mail(f"{name} has not synced for 48 hours",
                    f"Automatic sync is on for {name}, but no sync has completed for 48 hours.",
                    ["Leavers keep their access and new starters get no training until a sync "
                     "completes. Open Manage user sync to see why."], "Open Manage user sync")
    return Mail(f"{name} is syncing again", f"The sync of {name} completed again after failing.",
                ["Nothing else is needed."], "Open Manage user sync")


def render(mail):
    """Straight from the Jinja environment: a job has no request, so no page context processors
    (the .html template still autoescapes, by its extension)."""
    env = current_app.jinja_env
    return (env.get_template("notifications/mail.txt").render(mail=mail),
            env.get_template("notifications/mail.html").render(mail=mail))
