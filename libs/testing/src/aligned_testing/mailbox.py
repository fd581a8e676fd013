"""The outside world's mail server for whole-system runs, read as its recipients would read it.

The services send over real SMTP to Mailpit (deploy/local/mailpit.sh under `make up` and the
tests, its image under testcontainers); a test reads a mail back through Mailpit's HTTP API
(the links in it, its List-Unsubscribe headers) and follows them. One server serves the whole
session and every `make up` of the checkout, so a Mailbox only sees what arrived since its
start(), and a test isolates its mail by recipient: an address of its own (uuid in it).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import httpx

from aligned_common.localrun import MailServer, local_mail_server
from aligned_testing import polling

_PAGE = 200  # messages per search request


@dataclass
class Mailbox:
    host: str = field(default_factory=lambda: local_mail_server().smtp_host)  # SMTP: where the services send
    port: int = field(default_factory=lambda: local_mail_server().smtp_port)
    api_url: str = field(default_factory=lambda: local_mail_server().api_url)  # Mailpit's HTTP API
    since: datetime | None = None  # mail received before start() belongs to earlier runs
    _http: httpx.Client | None = None
    _parsed: dict[str, EmailMessage] = field(default_factory=dict)  # by Mailpit id: a mail never changes

    @classmethod
    def of(cls, server: MailServer) -> Mailbox:
        return cls(host=server.smtp_host, port=server.smtp_port, api_url=server.api_url)

    def start(self, port: int | None = None) -> Mailbox:
        """Checks the server answers and starts counting mail from now.

        The server is the infrastructure's (it outlives the test run), so nothing listens here;
        `port`, from the days of an in-process SMTP sink, may only name the server's own port."""
        if port is not None and port != self.port:
            raise ValueError(
                f"the mail server listens on {self.host}:{self.port} (Mailpit), not on port {port}"
            )
        self._http = httpx.Client(base_url=self.api_url, timeout=10)
        try:
            self._http.get("/readyz").raise_for_status()
        except httpx.HTTPError as error:
            self.stop()
            raise RuntimeError(
                f"no mail server answers at {self.api_url} ({error}); start it with "
                "`bash deploy/local/mailpit.sh start` (make infra-up does)"
            ) from error
        self.since = datetime.now(UTC)
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    @property
    def messages(self) -> list[tuple[str, EmailMessage]]:
        """(recipient, message) for every mail since start(), oldest first, one entry per recipient."""
        found: list[tuple[str, EmailMessage]] = []
        for summary in self._search(""):
            message = self._message(summary["ID"])
            found.extend((rcpt, message) for rcpt in _recipients(summary))
        return found

    def to(self, address: str) -> list[EmailMessage]:
        """Every mail to `address` (To, Cc or Bcc) since start(), oldest first."""
        address = address.lower()
        return [
            self._message(s["ID"])
            for s in self._search(f'addressed:"{address}"')
            if address in _recipients(s)
        ]

    async def wait_for(
        self, address: str, count: int = 1, *, subject: str = "", timeout_s: float = 60
    ) -> list[EmailMessage]:
        """At least `count` mails to `address` whose subject contains `subject`, once they arrived."""

        async def enough() -> list[EmailMessage] | None:
            found = [m for m in await asyncio.to_thread(self.to, address) if subject in (m["Subject"] or "")]
            return found if len(found) >= count else None

        return await polling.eventually(
            enough, timeout_s=timeout_s, interval_s=0.5, what=f"{count} mail(s) '{subject}' to {address}"
        )

    def _search(self, query: str) -> list[dict]:
        """Summaries matching a Mailpit search query (empty: all), received since start(), oldest first.
        Mailpit answers newest first, so paging stops at the first older than start()."""
        if self._http is None or self.since is None:
            raise RuntimeError("Mailbox.start() was not called")
        found, offset = [], 0
        while True:
            params = {"start": offset, "limit": _PAGE}
            answer = (
                self._http.get("/api/v1/search", params=params | {"query": query})
                if query
                else self._http.get("/api/v1/messages", params=params)
            )
            answer.raise_for_status()
            page = answer.json()["messages"] or []
            fresh = [s for s in page if _received(s) >= self.since]
            found.extend(fresh)
            if len(fresh) < len(page) or len(page) < _PAGE:
                return found[::-1]
            offset += _PAGE

    def _message(self, message_id: str) -> EmailMessage:
        if message_id not in self._parsed:
            if self._http is None:
                raise RuntimeError("the mailbox is not started")
            raw = self._http.get(f"/api/v1/message/{message_id}/raw")
            raw.raise_for_status()
            self._parsed[message_id] = message_from_bytes(raw.content, policy=policy.default)
        return self._parsed[message_id]


def _recipients(summary: dict) -> list[str]:
    return [a["Address"].lower() for key in ("To", "Cc", "Bcc") for a in summary.get(key) or []]


def _received(summary: dict) -> datetime:
    # RFC 3339 with up to nanoseconds; Python 3.11 reads up to microseconds.
    stamp = re.sub(r"(\.\d{6})\d+", r"\1", summary["Created"].replace("Z", "+00:00"))
    return datetime.fromisoformat(stamp)


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    if body is None:
        raise ValueError("the message has no text/plain part")
    return body.get_content()
