"""Sending one raised event to its people: claimed by a lease, retried with back-off.

A sender claims the row by moving next_attempt_at a lease ahead, so two workers never send the
same mail and a worker killed mid-send leaves it to be retried when the lease ends. A failed
send records the error, schedules the next attempt and raises, so RQ logs the failed job; the
tick enqueues the next attempt when it is due. The mail goes in one SMTP transaction: each
recipient gets it once or not yet.
"""
import json
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from webapp.auth.models import User
from webapp.clock import as_utc, utcnow
from webapp.extensions import db
from webapp.notifications import account_mail, digest, events, mailer, messages
from webapp.notifications.models import (
    LOGGED, NO_RECIPIENTS, PENDING, SENT, NotificationEvent, NotificationOptOut)
from webapp.orgs.models import Membership, Organisation

LEASE = timedelta(minutes=10)
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                timedelta(hours=1))
EVENTS = NotificationEvent.__table__
log = logging.getLogger(__name__)


def deliver(event_id, now):
    """now: when the send was asked for (a tick run --as-of gives its moment). A job that runs
    later, behind a busy queue, leases and schedules from the clock: from the moment it was
    asked for, its lease had ended before it began, and a second worker sent the mail again."""
    now = max(as_utc(now), utcnow())
    if not _claim(event_id, now):
        return None
    row = db.session.get(NotificationEvent, event_id)
    organisation = db.session.get(Organisation, row.organisation_id) if row.organisation_id else None
    if row.organisation_id and organisation is None:
        return _finish(row, NO_RECIPIENTS)  # the school was deleted meanwhile
    try:
        prepared = _prepare(row, organisation, now)
        if prepared is None or not prepared.recipients:
            return _finish(row, NO_RECIPIENTS)
        text, html = prepared.rendered()
        message = mailer.build_message(current_app.config, prepared.recipients,
                                       prepared.mail.subject, text, html)
    except Exception as error:  # a mail we cannot write: kept on the row, not only in RQ's log
        db.session.rollback()
        _retry_later(db.session.get(NotificationEvent, event_id), now,
                     f"The mail could not be written ({type(error).__name__}: {error})"[:1000])
        raise
    prepared.before_send()
    db.session.commit()
    try:
        sent = mailer.send(current_app.config, message)
    except mailer.MailNotSent as error:
        _retry_later(row, now, str(error))
        raise
    prepared.after_sent(now)
    return _finish(row, SENT if sent else LOGGED, _refused_words(row, sent))


def _retry_later(row, now, error):
    row.last_error = error
    row.next_attempt_at = now + RETRY_DELAYS[min(row.attempts, len(RETRY_DELAYS)) - 1]
    db.session.commit()
    log.warning("email %s (%s) not sent, attempt %s: %s; retrying after %s", row.id, row.event,
                row.attempts, error, row.next_attempt_at.isoformat())


def _refused_words(row, sent):
    """The recipients the server refused while taking the mail for the others (smtplib raises
    only when it refuses every one): kept on the row and logged, never dropped unsaid."""
    if not isinstance(sent, dict) or not sent:
        return None
    refused = "; ".join(f"{address} ({code} {_text(answer)})"
                        for address, (code, answer) in sorted(sent.items()))
    log.warning("email %s (%s) sent, but the mail server refused %s", row.id, row.event, refused)
    return f"The mail server refused: {refused}"[:1000]


def _text(answer):
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)


def _prepare(row, organisation, now):
    """Who gets the mail and what it says: one person about their account, one admin's weekly
    digest, or the school's admins (or operations) about the school."""
    if row.event in account_mail.EVENTS:
        return account_mail.prepare(row, organisation, now)
    if row.event == events.WEEKLY_DIGEST:
        return digest.prepare(row)
    mail = messages.compose(row, organisation, json.loads(row.payload).get("message"))
    return messages.PreparedMail(recipients_for(row), mail)


def _claim(event_id, now):
    result = db.session.execute(update(EVENTS).where(
        EVENTS.c.id == event_id, EVENTS.c.status == PENDING, EVENTS.c.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE, attempts=EVENTS.c.attempts + 1))
    db.session.commit()
    return result.rowcount == 1


def _finish(row, status, error=None):
    row.status, row.sent_at, row.last_error = status, utcnow(), error
    db.session.commit()
    log.info("email %s (%s) %s", row.id, row.event, status)
    return status


def recipients_for(row):
    if row.organisation_id is None:
        return list(current_app.config["OPERATIONS_EMAIL"])
    opted_out = select(NotificationOptOut.user_id).where(NotificationOptOut.event == row.event)
    return list(db.session.scalars(select(User.email).join(Membership).where(
        Membership.organisation_id == row.organisation_id, Membership.role == "admin",
        Membership.status == "active", User.id.not_in(opted_out)).order_by(User.email)))


def resend_due(now):
    """The tick: pending events whose next attempt is due get a send job (first sends whose
    enqueue failed, retries after a mail server outage, a lease that ran out)."""
    for row in db.session.scalars(select(NotificationEvent).where(
            NotificationEvent.status == PENDING, NotificationEvent.next_attempt_at <= now)
            .order_by(NotificationEvent.id).limit(500)):
        events.enqueue_delivery(row, as_of=now)

