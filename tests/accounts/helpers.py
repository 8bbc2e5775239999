"""Following the emails the account flows send: run the queued mail jobs in this process, read
the mail the loopback SMTP server received, and open the link in it as a browser would."""
import re
from urllib.parse import urlsplit

from sqlalchemy import func, select

from harness.factory import csrf_token_from
from tests.mail_helpers import bodies
from tests.microsoft_flow import run_quick_jobs
from webapp.audit.models import AuditEntry
from webapp.extensions import db

PUBLIC_URL = "https://rostersync.example.test"
LINK = re.compile(re.escape(PUBLIC_URL) + r"/[^\s\"'<>]+")
STRONG = "Kettle-Tulip-Harbour-Sky-7"
STRONGER = "Lantern-Meadow-Copper-Fig-3"


def mails_after_jobs(app, smtp_server, expected):
    """Runs the queued jobs (the mail ones among them) and returns the first `expected` mails."""
    run_quick_jobs(app)
    return smtp_server.wait_for(expected)[:expected]


def link_in(message):
    """The path and query of the one link of ours in the mail's plain text (the HTML one has
    the same link)."""
    text, html = bodies(message)
    found = {match.replace("&amp;", "&") for match in LINK.findall(text)}
    assert len(found) == 1, f"expected one link in:\n{text}"
    url = found.pop()
    assert url in html.replace("&amp;", "&")
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def token_of(link):
    return link.split("token=", 1)[1]


def post_page_form(client, page_url, action, data):
    """Opens the page (as a browser would) and posts one of its forms with the page's token; a
    page without a form (a link that cannot be used) is posted to as an old tab would, with the
    session's token from the sign-in page."""
    page = client.get(page_url)
    if 'name="csrf_token"' not in page.text:
        page = client.get("/login", follow_redirects=True)
    return client.post(action, data={"csrf_token": csrf_token_from(page.text), **data})


def audit_count(action):
    return db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == action))


def attempt_sign_in(client, email, password):
    """The sign-in form, posted; returns the answer (302 signed in, 401 refused)."""
    return post_page_form(client, "/login", "/login", {"email": email, "password": password})
