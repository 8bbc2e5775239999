"""Sending one email over SMTP with the standard library (smtplib, email.message).

Flask's MAIL_* names configure it. No MAIL_SERVER: the message is written to the log instead
(demo mode, `make run`). Every connection has a timeout.
"""
import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

log = logging.getLogger(__name__)


class MailNotSent(Exception):
    """The mail server was unreachable or refused; str() says which, without any password."""


def mail_configured(config):
    return bool((config.get("MAIL_SERVER") or "").strip())


def build_message(config, recipients, subject, text, html):
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = ", ".join(recipients)
    # An explicit domain: make_msgid would otherwise look up this host's name in DNS.
    domain = parseaddr(config["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2] or "rostersync.invalid"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(config, message):
    """Sends, or logs when no MAIL_SERVER is set. Returns False when logged; when it went to a
    mail server, the recipients it refused while taking it for the others ({address: (code,
    answer)}), or True when it refused none."""
    if not mail_configured(config):
        log.info("email not sent (MAIL_SERVER is not set); it would have said:\n%s",
                 message.get_body(("plain",)).get_content(),
                 extra={"mail_to": message["To"], "mail_subject": message["Subject"]})
        return False
    try:
        with _connect(config) as server:
            if config["MAIL_USE_TLS"] and not config["MAIL_USE_SSL"]:
                server.starttls()
            if config.get("MAIL_USERNAME"):
                server.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            refused = server.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise MailNotSent("the mail server refused MAIL_USERNAME/MAIL_PASSWORD") from None
    except (smtplib.SMTPException, OSError) as error:
        raise MailNotSent(f"{type(error).__name__}: {_safe_text(error)}") from None
    return refused or True


def _connect(config):
    server_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    return server_class(config["MAIL_SERVER"], config["MAIL_PORT"],
                        timeout=config["MAIL_TIMEOUT_SECONDS"])


def _safe_text(error):
    return str(error)[:300]
