"""The outside world's mail server for whole-system runs: an SMTP sink (aiosmtpd, in a thread
of the test process) that keeps what the services sent, so a test reads a mail as its
recipient would (the links in it, its List-Unsubscribe headers) and follows them."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[tuple[str, EmailMessage]] = field(default_factory=list)  # (recipient, message)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self._lock:
            self.messages.extend((rcpt.lower(), message) for rcpt in envelope.rcpt_tos)
        return "250 OK"

    def start(self, port: int) -> Mailbox:
        self.port = port
        self._controller = Controller(self, hostname=self.host, port=port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for rcpt, m in self.messages if rcpt == address.lower()]


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()
