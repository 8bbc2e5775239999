"""A real SMTP server on loopback (aiosmtpd's Controller, on a free port we pick), that keeps
every message it receives, parsed. `smtp_server` fixture; `.stop()` / `.start()` for outages."""
import time
from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller

from scripts.tls_redis import free_port


class MailCatcher:
    def __init__(self):
        self.port, self.messages, self.controller = free_port(), [], None

    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def config(self):
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port, "MAIL_TIMEOUT_SECONDS": 5,
                "MAIL_DEFAULT_SENDER": "rostersync <no-reply@rostersync.test>",
                "PUBLIC_URL": "https://rostersync.example.test"}

    def wait_for(self, count, timeout=30):
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"{len(self.messages)} of {count} mails arrived"
        return self.messages


def bodies(message):
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


@pytest.fixture
def smtp_server():
    catcher = MailCatcher()
    catcher.start()
    yield catcher
    catcher.stop()
