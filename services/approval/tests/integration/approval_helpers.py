"""Helpers for the approval service's integration tests: the service, events in, mail out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller

from aligned_approval.bootstrap import build
from aligned_approval.config import Settings
from aligned_common.envelope import EventEnvelope, new_event
from aligned_common.events.base import EventData
from aligned_common.events.registry import ALL_TOPICS, topic_of
from aligned_common.identity import Identity, signed_headers
from aligned_common.kafka import reliable_producer
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.polling import eventually
from aligned_testing.service import RunningService, free_port, running_service

WORKFLOW_TOPICS = ["aligned.gateway.events", "aligned.publishing.events"]


# -- mail ----------------------------------------------------------------------------------
@dataclass
class Inbox:
    """What a local SMTP server (aiosmtpd) received."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        for rcpt in envelope.rcpt_tos:
            copy = message_from_bytes(envelope.original_content)
            copy["X-Test-Rcpt"] = rcpt.lower()
            self.messages.append(copy)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["X-Test-Rcpt"] == address.lower()]


@asynccontextmanager
async def smtp_server(port: int | None = None) -> AsyncIterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = port or free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def body_of(message: Message) -> str:
    return message.get_payload(decode=True).decode()


# -- the service ---------------------------------------------------------------------------
def service_settings(smtp_port: int, **overrides: Any) -> Settings:
    values = {
        "smtp_port": smtp_port,
        "mail_interval_s": 0.1,
        "mail_retry_base_s": 0.2,
        "mail_retry_max_s": 0.5,
        "escalation_interval_s": 0.1,
        "escalation_hour_s": 3600.0,
        "relay_poll_interval_s": 0.2,
        "public_base_url": "http://gateway.test",
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def approval_service(
    schema: str, bootstrap: str, settings: Settings, *, first_replica: bool = True
) -> AsyncIterator[RunningService]:
    if first_replica:  # later replicas join the groups the first one set up
        await start_groups_at_end(bootstrap, f"aligned-{schema}", WORKFLOW_TOPICS)
        await start_groups_at_end(bootstrap, f"aligned-{schema}_audit", list(ALL_TOPICS))
    async with running_service(build(settings, name=schema)) as service:
        yield service


# -- events in -----------------------------------------------------------------------------
class EventSender:
    """Publishes envelopes as the owning service's relay would (key = brand id)."""

    def __init__(self, bootstrap: str) -> None:
        self._producer = reliable_producer(bootstrap)

    async def __aenter__(self) -> EventSender:
        await self._producer.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self._producer.stop()

    async def send(self, data: EventData, brand: Brand, **envelope_fields: Any) -> EventEnvelope:
        envelope = new_event(data, brand_id=brand.brand_id, tenant_id=brand.tenant_id, **envelope_fields)
        await self.send_envelope(envelope)
        return envelope

    async def send_envelope(self, envelope: EventEnvelope) -> None:
        await self._producer.send_and_wait(
            topic_of(envelope.type), envelope.to_bytes(), key=str(envelope.brand_id).encode()
        )


# -- identities ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Brand:
    brand_id: uuid.UUID = field(default_factory=uuid.uuid4)
    tenant_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def headers(self, user_id: str, role: str) -> dict[str, str]:
        return signed_headers(Identity(self.tenant_id, self.brand_id, user_id, role))


async def add_members(events: EventSender, http, brand: Brand, members: dict[str, tuple[str, str]]) -> None:
    """Announce brand members (user id -> (email, role)) and wait until the service knows them."""
    from aligned_common.events.gateway import MemberAdded

    for user_id, (email, role) in members.items():
        await events.send(MemberAdded(user_id=user_id, email=email, role=role), brand)

    async def known() -> bool:
        response = await http.get("/v1/reviewers", headers=brand.headers("setup", "admin"))
        return len(response.json()["items"]) == len(members)

    await eventually(known)


def job_created(
    job_id: uuid.UUID,
    *,
    content: str = "Spring launch!",
    author: str = "alex",
    requires_approval: bool = True,
    round_no: int = 1,
    platforms: tuple[str, ...] = ("mastodon",),
    connection_id: uuid.UUID | None = None,
):
    from aligned_common.events.publishing import JobCreated, TargetRef

    return JobCreated(
        job_id=job_id,
        author_id=author,
        requires_approval=requires_approval,
        content=content,
        round=round_no,
        targets=[
            TargetRef(target_id=uuid.uuid4(), platform=p, connection_id=connection_id or uuid.uuid4())
            for p in platforms
        ],
    )


async def pending_round(http, brand: Brand, job_id: uuid.UUID, round_no: int = 1) -> dict:
    async def opened() -> dict | None:
        response = await http.get(f"/v1/jobs/{job_id}/approvals", headers=brand.headers("setup", "admin"))
        if response.status_code == 404:
            return None  # approval has not heard of the job yet
        rounds = [r for r in response.json()["items"] if r["round"] == round_no]
        return rounds[0] if rounds else None

    return await eventually(opened)


async def put_policy_on_new_connection(
    events: EventSender, http, brand: Brand, headers: dict[str, str], body: dict[str, Any]
):
    """Announce the body's connection (connections.connected), then PUT the policy once approval's
    copy of connections knows it (until then it is 422 unknown_connection, as for a client)."""
    from aligned_common.events.connections import Connected

    connection_id = uuid.UUID(body["connection_id"])
    await events.send(
        Connected(connection_id=connection_id, platform="sandbox"), brand, subject=str(connection_id)
    )

    async def accepted():
        response = await http.put("/v1/policies", headers=headers, json=body)
        return None if response.status_code == 422 and "unknown_connection" in response.text else response

    return await eventually(accepted)
