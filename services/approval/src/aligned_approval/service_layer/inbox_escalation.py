"""The engagement inbox's SLA, escalated by the brand's escalation rules (issue 25): an
`engagement.sla_breached` (an item left unanswered past the brand's first-response time) fires
the first level of each enabled rule once: its roles and addresses get an escalation mail. An
event, not a call; the rules are the ones approval keeps for its rounds (there is one set per
brand). Quiet hours are not applied here yet: an inbox item has no round to defer."""

from __future__ import annotations

import uuid

from aligned_approval.domain.escalation import Level
from aligned_approval.domain.preferences import MailKind
from aligned_approval.messages import text
from aligned_approval.service_layer.notify import enqueue_each
from aligned_approval.service_layer.ports import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.engagement import SlaBreached


async def on_sla_breached(uow: UnitOfWork, envelope: EventEnvelope, data: SlaBreached) -> None:
    brand_id: uuid.UUID = envelope.brand_id
    fields = {
        "kind": data.kind,
        "hours": f"{data.first_response_hours:g}",
        "since": f"{data.received_at:%Y-%m-%d %H:%M}",
    }

    def render(lang: str) -> tuple[str, str]:
        return text(lang, "mail.inbox_overdue.subject", **fields), text(
            lang, "mail.inbox_overdue.body", **fields
        )

    for rule in await uow.escalations.list_rules(brand_id):
        if not rule["enabled"] or not rule["levels"]:
            continue
        level = Level.model_validate(rule["levels"][0])
        role_addresses = await uow.members.reviewer_emails(brand_id, roles=level.notify_roles, users=[])
        # The dedupe key (item, rule, address) makes a redelivered or repeated breach mail nobody twice.
        await enqueue_each(
            uow,
            brand_id,
            MailKind.ESCALATED,
            [*role_addresses, *level.notify_addresses],
            render,
            f"inbox:{data.item_id}:{rule['id']}",
        )
