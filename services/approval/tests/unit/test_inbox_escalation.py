"""engagement.sla_breached fires the first level of each enabled escalation rule once."""

import uuid
from datetime import UTC, datetime

import pytest

from aligned_approval.domain.escalation import Level, RuleIn
from aligned_approval.service_layer import inbox_escalation
from aligned_common.envelope import new_event
from aligned_common.events.engagement import SlaBreached

from .fakes import FakeUnitsOfWork

pytestmark = pytest.mark.unit

BRAND, TENANT = uuid.uuid4(), uuid.uuid4()


async def test_an_inbox_breach_mails_each_enabled_rules_first_level_once():
    uows = FakeUnitsOfWork()
    uows.store.reviewers.append(
        {"brand_id": BRAND, "user_id": "olga", "email": "olga@example.com", "role": "owner"}
    )
    async with uows(brand_id=BRAND) as uow:
        await uow.escalations.insert_rule(
            BRAND,
            RuleIn(
                name="inbox",
                levels=[
                    Level(after_hours=1, notify_roles=["owner"], notify_addresses=["desk@example.com"]),
                    Level(after_hours=2, notify_addresses=["boss@example.com"]),
                ],
            ),
        )
        await uow.escalations.insert_rule(
            BRAND,
            RuleIn(
                name="off", enabled=False, levels=[Level(after_hours=1, notify_addresses=["x@example.com"])]
            ),
        )
    breach = SlaBreached(
        item_id=uuid.uuid4(),
        kind="review",
        received_at=datetime(2026, 1, 1, tzinfo=UTC),
        first_response_hours=4,
    )
    envelope = new_event(breach, brand_id=BRAND, tenant_id=TENANT)
    for _ in range(2):  # the same breach twice (a replay): nobody is mailed twice
        async with uows(brand_id=BRAND) as uow:
            await inbox_escalation.on_sla_breached(uow, envelope, breach)
    mails = uows.store.notifications
    assert sorted(n["to_address"] for n in mails) == ["desk@example.com", "olga@example.com"]
    assert {n["kind"] for n in mails} == {"escalated"}
    assert "review is unanswered after 4 hours" in mails[0]["subject"]
