"""A real SMTP server on loopback (harness/mail.py), one per test session: `smtp_server` starts
every test running and empty. `.stop()` / `.start()` for outages (same port)."""
import pytest

from harness.mail import MailCatcher


def bodies(message):
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


@pytest.fixture(scope="session")
def _session_smtp_server():
    catcher = MailCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture
def smtp_server(_session_smtp_server):
    catcher = _session_smtp_server
    if not catcher.running:  # a test stopped it for an outage
        catcher.start()
    catcher.messages.clear()
    yield catcher
    catcher.messages.clear()
    catcher.on_arrival = None
    catcher.refused = set()
