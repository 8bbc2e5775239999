"""A real SMTP server on loopback (aiosmtpd's Controller) that keeps every message, parsed.

aiosmtpd cannot take port 0, so the port is chosen here; it binds 127.0.0.1 explicitly."""
import time
from email import policy
from email.parser import BytesParser

from aiosmtpd.controller import Controller

from harness.processes import free_port


class MailCatcher:
    def __init__(self):
        self.port, self.messages, self.controller = free_port(), [], None
        self.on_arrival = None  # a test's look at the world the moment a message arrives
        self.refused = set()  # addresses answered 550 at RCPT, as a server refuses a mailbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        if self.on_arrival is not None:
            self.on_arrival(message)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def running(self):
        return self.controller is not None

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
