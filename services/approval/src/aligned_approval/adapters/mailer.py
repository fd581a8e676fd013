"""Sends one e-mail over real SMTP (aiosmtplib)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib


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
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body)
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            start_tls=self.starttls,
            timeout=self.timeout_s,
        )
