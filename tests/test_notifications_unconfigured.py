"""No MAIL_SERVER (demo mode, make run): emails go to the log and the page says so."""
import logging

from webapp.clock import utcnow
from webapp.notifications import events
from webapp.notifications.delivery import deliver
from webapp.notifications.models import LOGGED


def test_without_a_mail_server_mails_are_logged_and_the_notifications_page_says_so(
        app, school, caplog):
    page = school.client.get(f"/o/{school.org.id}/settings/notifications/")
    # in a school admin's words: MAIL_SERVER and the log are the operators' (docs/deploying.md)
    assert "This platform cannot send email yet" in page.text
    assert "MAIL_SERVER" not in page.text and " log" not in page.text
    row = events.raise_event(school.org.id, events.RECONNECT_NEEDED, events.RECONNECT_NEEDED,
                             utcnow().date(), {"reason": "Microsoft refused the token."})
    with caplog.at_level(logging.INFO, logger="webapp.notifications.mailer"):
        assert deliver(row.id, utcnow()) == LOGGED
    logged = [record for record in caplog.records if record.name == "webapp.notifications.mailer"]
    assert logged and "Microsoft refused rostersync's access" in logged[0].getMessage()
    assert logged[0].mail_to == school.admin.email
