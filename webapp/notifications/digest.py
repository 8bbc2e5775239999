"""The weekly digest: one mail per admin who asked for it, covering every school they administer.

Sent for the week that ends on Monday at 07:00 in the time zone of the school whose
Notifications page they ticked it on (the platform's DEFAULT_TIME_ZONE if that school is gone).
The clock enqueues `jobs.notifications.weekly_digest_job` every few minutes; a digest is raised
once the admin's Monday 07:00 has passed, and only for admins who asked before it. Like every
mail it is a notification_events row first, unique per admin ("user:<id>") and week (its Monday),
so two clocks, a restart or a retried job never send it twice, and a clock that was down on
Monday sends it when it is back.

Per school: the week's joiners (added or reinstated) and leavers (suspended) from completed
syncs, the syncs that failed, and the school's Status now: the Schools page's own rows
(trust.overview) and engine.fleet's counts, never a second copy of either.
"""
import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import select

from webapp.auth.models import User
from webapp.clock import as_utc
from webapp.dates import format_moment
from webapp.extensions import db
from webapp.notifications import events
from webapp.notifications.messages import PreparedMail, external_url
from webapp.notifications.models import DigestSubscription, NotificationEvent
from webapp.orgs.models import Organisation
from webapp.orgs.services import administered_ids
from webapp.zones import organisation_zone
from webapp.trust.overview import school_rows
from webapp.trust.status import status_words
from webapp.user_sync.engine.fleet import load_runs, week_counts_of

SEND_AT = time(7, 0)  # Monday, in the admin's school's time zone


@dataclass
class DueDigest:
    user_id: int
    zone_name: str
    monday: object      # date: the week's key
    start: object       # aware UTC: the Monday 07:00 a week before
    end: object         # aware UTC: this Monday 07:00


def week_ending(now, zone_name):
    """(monday, start, end) of the latest week that ended at a Monday 07:00 at or before now."""
    zone = organisation_zone(zone_name)
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    end = datetime.combine(monday, SEND_AT, tzinfo=zone)
    if local < end:
        monday -= timedelta(days=7)
        end = datetime.combine(monday, SEND_AT, tzinfo=zone)
    start = datetime.combine(monday - timedelta(days=7), SEND_AT, tzinfo=zone)
    return monday, start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def due_digests(now):
    """The admins whose digest for the week just ended has not been raised yet."""
    default_zone = current_app.config["DEFAULT_TIME_ZONE"]
    found = []
    for user_id, subscribed_at, zone_name in db.session.execute(
            select(DigestSubscription.user_id, DigestSubscription.created_at, Organisation.time_zone)
            .outerjoin(Organisation, Organisation.id == DigestSubscription.organisation_id)):
        monday, start, end = week_ending(now, zone_name or default_zone)
        if as_utc(subscribed_at) <= end:
            found.append(DueDigest(user_id, zone_name or default_zone, monday, start, end))
    if not found:
        return []
    raised = set(db.session.execute(select(NotificationEvent.user_id, NotificationEvent.day).where(
        NotificationEvent.event == events.WEEKLY_DIGEST,
        NotificationEvent.user_id.in_([due.user_id for due in found]),
        NotificationEvent.day.in_({due.monday for due in found}))))
    return [due for due in found if (due.user_id, due.monday) not in raised]


def raise_weekly_digests(now):
    """Raises each due digest (its mail is sent by the quick queue); returns how many."""
    raised = 0
    for due in due_digests(now):
        payload = digest_payload(due, now)
        if payload["schools"] and events.raise_event(
                None, events.WEEKLY_DIGEST, events.WEEKLY_DIGEST, due.monday, payload,
                user_id=due.user_id) is not None:
            raised += 1
    return raised


def digest_payload(due, now):
    """What the mail says, fixed when it is raised (a retried send says the same)."""
    rows = school_rows(due.user_id, now)
    load_runs([row.facts for row in rows])  # every school's Status words
    counts = week_counts_of(administered_ids(due.user_id), due.start, due.end)
    schools = [{"id": row.id, "name": row.name, "status": row.status,
                "status_text": status_words(row, format_moment),
                "attention": row.needs_attention,
                **dict(zip(("joiners", "leavers", "failed"), counts.get(row.id, (0, 0, 0))))}
               for row in rows]
    schools.sort(key=lambda school: (not school["attention"], school["name"].casefold()))
    return {"zone": due.zone_name, "start": due.start.isoformat(), "end": due.end.isoformat(),
            "schools": schools}


def prepare(row):
    """The digest mail for its row, to its admin (nobody if they no longer want it)."""
    return PreparedMail(recipient(row), compose(row), renderer=render)


def recipient(row):
    """The digest goes to its admin while they still want it; [] otherwise."""
    wanted = db.session.scalar(select(User.email).join(
        DigestSubscription, DigestSubscription.user_id == User.id).where(User.id == row.user_id))
    return [wanted] if wanted else []


@dataclass
class DigestMail:
    subject: str
    headline: str
    period: str
    schools: list = field(default_factory=list)  # payload's schools, each with its "url"
    schools_url: str = ""
    notifications_url: str = ""


def compose(row):
    payload = json.loads(row.payload)
    schools, zone = payload["schools"], organisation_zone(payload["zone"])
    subject = f"Weekly sync digest: {_about(schools)}"
    start, end = (datetime.fromisoformat(payload[key]).astimezone(zone) for key in ("start", "end"))
    for school in schools:
        school["url"] = external_url("user_sync.index", org_id=school["id"])
    return DigestMail(
        subject=subject, headline=_sentence(subject.split(": ", 1)[1]),
        period=(f"The week from Monday {start.day} {start:%b} to Monday {end.day} {end:%b %Y}, "
                f"07:00 to 07:00 ({zone.key})"),
        schools=schools,
        schools_url=external_url("trust.schools", org_id=schools[0]["id"]) if len(schools) > 1 else "",
        notifications_url=external_url("notifications.preferences", org_id=schools[0]["id"]))


def _about(schools):
    """ "2 of 40 schools need attention", "all 40 schools OK"; an admin of one school reads
    about that school, never "all 1 schools"."""
    attention = sum(1 for school in schools if school["attention"])
    if len(schools) == 1:
        return f"{schools[0]['name']} {'needs attention' if attention else 'OK'}"
    if attention:
        return (f"{attention} of {len(schools)} schools need{'s' if attention == 1 else ''} "
                "attention")
    return f"all {len(schools)} schools OK"


def _sentence(text):
    return text[:1].upper() + text[1:] + "."


def render(mail):
    env = current_app.jinja_env
    return (env.get_template("notifications/digest.txt").render(mail=mail),
            env.get_template("notifications/digest.html").render(mail=mail))
