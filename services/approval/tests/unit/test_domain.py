"""Pure rules: escalation timing and quiet hours, policies, tokens, preferences, audit mapping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from aligned_approval.domain import tokens
from aligned_approval.domain.audit import entry_for, trace_id_of
from aligned_approval.domain.decisions import may_decide
from aligned_approval.domain.escalation import Level, QuietHours, RuleIn, is_quiet, next_due_level
from aligned_approval.domain.policy import DEFAULT_POLICY, Mode, Policy, approvers_for, resolve
from aligned_approval.domain.preferences import EmailPreferences, MailKind
from aligned_common.envelope import new_event
from aligned_common.events.gateway import MemberRoleChanged

pytestmark = pytest.mark.unit

OPENED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEVELS = [Level(after_hours=4, notify_roles=["admin"]), Level(after_hours=2, notify_roles=["owner"])]


@pytest.mark.parametrize(
    "hours_later, fired, due",
    [
        (3.9, 0, None),
        (4, 0, 1),
        (5, 1, None),
        (6, 1, 2),
        (30, 2, None),
        (30, 0, 1),
    ],
)
def test_levels_fire_after_n_then_m_more_hours(hours_later, fired, due):
    assert next_due_level(OPENED, LEVELS, fired, OPENED + timedelta(hours=hours_later), 3600) == due


def test_quiet_hours_span_midnight_in_the_brand_zone():
    quiet = QuietHours(start=time(22), end=time(7))
    # 21:30 UTC is 06:30 the next day in Tokyo (quiet), 21:30 in London in winter and 16:30 in New York (not).
    now = datetime(2026, 1, 15, 21, 30, tzinfo=UTC)
    assert is_quiet(now, quiet, "Asia/Tokyo")
    assert not is_quiet(now, quiet, "Europe/London") and not is_quiet(now, quiet, "America/New_York")
    assert is_quiet(now + timedelta(hours=1), quiet, "Europe/London")
    assert not is_quiet(now, None, "Asia/Tokyo")


def test_quiet_hours_follow_daylight_saving():
    quiet = QuietHours(start=time(9), end=time(10))
    # 08:30 UTC is 09:30 in Berlin in winter (CET) but 10:30 in summer (CEST).
    assert is_quiet(datetime(2026, 1, 10, 8, 30, tzinfo=UTC), quiet, "Europe/Berlin")
    assert not is_quiet(datetime(2026, 7, 10, 8, 30, tzinfo=UTC), quiet, "Europe/Berlin")


def test_most_specific_policy_wins_and_rounds_allow_any_targets_approvers():
    conn_a, conn_b = uuid.uuid4(), uuid.uuid4()
    brand = Policy(Mode.APPROVAL_REQUIRED, ["client"])
    on_a = Policy(Mode.FULL_POSTING, ["approver"], connection_id=conn_a)
    on_a_for_sam = Policy(Mode.APPROVAL_REQUIRED, ["admin"], ["boss"], connection_id=conn_a, user_id="sam")
    policies = [brand, on_a, on_a_for_sam]
    assert resolve(policies, conn_a, "sam") is on_a_for_sam
    assert resolve(policies, conn_a, "kim") is on_a
    assert resolve(policies, conn_b, "kim") is brand
    assert resolve([], conn_b, "kim") is DEFAULT_POLICY
    assert approvers_for(policies, [conn_a, conn_b], "kim") == (["approver", "client"], [])


@pytest.mark.parametrize(
    "role, user, allowed",
    [
        ("viewer", "u", False),
        ("editor", "u", False),
        ("client", "u", False),
        ("approver", "u", True),
        ("client", "vip", True),
        ("admin", "u", True),
        ("owner", "u", True),
        ("viewer", "vip", False),
    ],
)
def test_who_may_decide(role, user, allowed):
    assert may_decide(role, user, ["approver"], ["vip"]) is allowed


def test_tokens_are_bound_to_secret_and_purpose():
    token = tokens.sign("review-link", {"l": "1"}, b"secret")
    assert tokens.verify("review-link", token, b"secret") == {"l": "1"}
    for purpose, secret, candidate in (
        ("unsubscribe", b"secret", token),
        ("review-link", b"other", token),
        ("review-link", b"secret", token[:-1] + ("A" if token[-1] != "A" else "B")),
        ("review-link", b"secret", "no-dot"),
    ):
        with pytest.raises(tokens.InvalidToken):
            tokens.verify(purpose, candidate, secret)


def test_preferences_fill_in_defaults_for_older_rows():
    old_row = {"approvals_needed": False}  # written before the other fields existed
    prefs = EmailPreferences.model_validate(old_row)
    assert not prefs.wants(MailKind.APPROVAL_REQUESTED)
    assert prefs.wants(MailKind.REMINDER) and prefs.wants(MailKind.DECIDED)
    assert prefs.max_emails_per_day == 20 and prefs.reminder_frequency == "daily"


def test_audit_entry_of_a_role_change():
    envelope = new_event(
        MemberRoleChanged(user_id="rita", old_role="client", new_role="approver"),
        brand_id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    entry = entry_for(envelope)
    assert (entry.action, entry.actor, entry.entity_type, entry.entity_id) == (
        "gateway.member_role_changed",
        "service:gateway",
        "member",
        "rita",
    )
    assert (entry.before, entry.after) == ({"role": "client"}, {"role": "approver"})
    assert entry.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_id_of("garbage") is None


VALID_RULE = {"name": "r", "levels": [{"after_hours": 4, "notify_roles": ["admin"]}]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "r", "levels": []}, "levels"),
        ({"name": "r", "levels": [{"after_hours": -1, "notify_roles": ["admin"]}]}, "levels.0.after_hours"),
        ({"name": "r", "levels": [{"after_hours": 1, "notify_roles": ["janitor"]}]}, "levels.0.notify_roles"),
        ({"name": "r", "levels": [{"after_hours": 1}]}, "levels.0"),
        (
            {"name": "r", "levels": [{"after_hours": 1, "notify_addresses": ["not-an-address"]}]},
            "levels.0.notify_addresses.0",
        ),
        ({**VALID_RULE, "quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours"),
        ({**VALID_RULE, "name": ""}, "name"),
    ],
)
def test_rule_validation_names_the_field(body, field):
    with pytest.raises(ValidationError) as raised:
        RuleIn.model_validate(body)
    assert field in {".".join(str(p) for p in e["loc"]) for e in raised.value.errors()}
