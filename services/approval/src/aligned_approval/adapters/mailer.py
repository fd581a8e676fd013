"""Sends one e-mail over real SMTP (aiosmtplib)."""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr

import aiosmtplib

# Lines up to RFC 5322's 998 characters: a List-Unsubscribe URL must stay one plain header
# (folded at 78 it would be RFC 2047-encoded, and mail clients could not read the link).
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class SmtpMailer:
    host: str
    port: int
    sender: str
    timeout_s: float = 10.0
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    async def send(self, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> None:
        message = EmailMessage(policy=MAIL_POLICY)
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body)
        await aiosmtplib.send(
            message.as_bytes(),  # flattened here: aiosmtplib would re-fold with its own policy
            sender=parseaddr(self.sender)[1],
            recipients=[to],
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            start_tls=self.starttls,
            timeout=self.timeout_s,
        )
