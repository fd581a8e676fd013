"""The tests' mailbox reads real mail back from the one Mailpit the session shares (the infra's):
by recipient, To, Cc and Bcc alike, only what arrived since it started, headers and body intact."""

from __future__ import annotations

import smtplib
import uuid
from email.message import EmailMessage

import pytest

from aligned_testing.infra import Infra
from aligned_testing.mailbox import Mailbox, text_of

pytestmark = pytest.mark.integration


def send(infra: Infra, to: str, subject: str, *, bcc: str | None = None) -> None:
    message = EmailMessage()
    message["From"] = "Aligned <no-reply@aligned.local>"
    message["To"] = to
    message["Subject"] = subject
    message["List-Unsubscribe"] = "<http://127.0.0.1:8000/unsubscribe/t>"
    message.set_content(f"{subject}: http://127.0.0.1:8000/review/abc\n")
    with smtplib.SMTP(infra.mail.smtp_host, infra.mail.smtp_port, timeout=10) as smtp:
        smtp.send_message(message, to_addrs=[to, *([bcc] if bcc else [])])


async def test_a_mail_is_read_back_by_its_recipient_with_its_headers_and_body(infra: Infra) -> None:
    carol, dave = (
        f"carol-{uuid.uuid4().hex[:8]}@client.example.com",
        f"dave-{uuid.uuid4().hex[:8]}@x.example.com",
    )
    mailbox = Mailbox.of(infra.mail).start()
    try:
        send(infra, carol.upper(), "Please review", bcc=dave)  # an address is matched whatever its case
        [mail] = await mailbox.wait_for(carol, subject="Please review", timeout_s=20)
        assert mail["List-Unsubscribe"] == "<http://127.0.0.1:8000/unsubscribe/t>"
        assert text_of(mail).strip() == "Please review: http://127.0.0.1:8000/review/abc"
        assert [m["Subject"] for m in mailbox.to(dave)] == ["Please review"]  # Bcc: the envelope counts
        assert mailbox.to(carol[:-4]) == []  # the address itself, not a part of it
        assert {(rcpt, m["Subject"]) for rcpt, m in mailbox.messages} >= {
            (carol, "Please review"),
            (dave, "Please review"),
        }
    finally:
        mailbox.stop()


async def test_a_mailbox_sees_only_what_arrived_after_it_started(infra: Infra) -> None:
    erin = f"erin-{uuid.uuid4().hex[:8]}@client.example.com"
    earlier = Mailbox.of(infra.mail).start()
    try:
        send(infra, erin, "Round 1")
        await earlier.wait_for(erin, subject="Round 1", timeout_s=20)
        later = Mailbox.of(infra.mail).start()  # a later run, the same address (as make demo's client)
        try:
            send(infra, erin, "Round 2")
            assert [m["Subject"] for m in await later.wait_for(erin, subject="Round", timeout_s=20)] == [
                "Round 2"
            ]
            assert [m["Subject"] for m in await earlier.wait_for(erin, 2, timeout_s=20)] == [
                "Round 1",
                "Round 2",
            ]
        finally:
            later.stop()
    finally:
        earlier.stop()


def test_start_refuses_a_port_that_is_not_the_servers(infra: Infra) -> None:
    with pytest.raises(ValueError, match="Mailpit"):
        Mailbox.of(infra.mail).start(infra.mail.smtp_port + 1)


def test_a_mailbox_without_a_server_says_how_to_start_one() -> None:
    with pytest.raises(RuntimeError, match=r"mailpit\.sh start"):
        Mailbox(api_url="http://127.0.0.1:9").start()  # port 9 (discard): nothing listens
