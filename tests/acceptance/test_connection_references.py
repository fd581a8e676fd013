"""Connection ids stay in their brand everywhere (issue 18): approval policies, analytics goals
and analytics syncs refuse another brand's connection, one that does not exist and one that was
disconnected, with a 422 naming the field, and store nothing. Each service checks against its own
copy of connections' events (aligned_common.known_connections; analytics' accounts), never by
calling connections or trusting the id."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from aligned_testing.flows import onboard_brand
from aligned_testing.gateway_client import (
    ApiError,
    BrandSetup,
    Gateway,
    SandboxControl,
    connect_sandbox,
    eventually,
)

pytestmark = pytest.mark.e2e

# (method, path, body for a connection id, where what was stored is listed)
COMMANDS: dict[str, tuple[str, str, Callable[[str], dict[str, Any]], str | None]] = {
    "policy": (
        "PUT",
        "/v1/policies",
        lambda cid: {"connection_id": cid, "mode": "approval_required"},
        "/v1/policies",
    ),
    "goal": (
        "POST",
        "/v1/analytics/goals",
        lambda cid: {"metric": "likes", "target": 10, "connection_id": cid},
        "/v1/analytics/goals",
    ),
    "sync": ("POST", "/v1/analytics/syncs", lambda cid: {"connection_id": cid}, None),
}


async def _refusal(api: Gateway, command: str, connection_id: str) -> dict[str, Any] | None:
    """The 422's error for connection_id, or None when the command was accepted."""
    method, path, body, _ = COMMANDS[command]
    try:
        await api.request(method, path, json_body=body(connection_id))
    except ApiError as error:
        assert error.status == 422, error.body
        (field_error,) = [e for e in error.body["errors"] if e["field"] == "connection_id"]
        return field_error
    return None


async def _stored_naming(api: Gateway, command: str, connection_id: str) -> list[dict[str, Any]]:
    listing = COMMANDS[command][3]
    if listing is None:
        return []
    answer = await api.get(listing)
    items = answer["items"] if isinstance(answer, dict) else answer
    return [i for i in items if i.get("connection_id") == connection_id]


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_another_brands_an_unknown_and_a_disconnected_connection_are_refused_naming_the_field(
    api: Gateway, brand: BrandSetup, sandbox: SandboxControl, command: str
) -> None:
    owner = brand.owner.api
    # The brand's own account is accepted once the service has heard of its connection.
    await eventually(
        lambda: _accepted(owner, command, brand.connection_id),
        timeout_s=30,
        what=f"a {command} naming the brand's own connection",
    )

    other = await onboard_brand(api, sandbox.base_url, label="other")
    await eventually(
        lambda: _accepted(other.owner.api, command, other.connection_id),
        timeout_s=30,
        what=f"the other brand's {command} on its own connection",
    )  # known to the service now
    for foreign in (other.connection_id, str(uuid.uuid4())):  # another brand's, and none at all: alike
        error = await _refusal(owner, command, foreign)
        assert error is not None and "no connect" in error["message"]
        assert await _stored_naming(owner, command, foreign) == []

    gone = await connect_sandbox(owner, sandbox.base_url, f"leaving-{uuid.uuid4().hex[:6]}")
    await eventually(
        lambda: _accepted(owner, command, gone["id"]), timeout_s=30, what="the new connection known"
    )
    await owner.request("DELETE", f"/v1/connections/{gone['id']}")

    async def refused_once_disconnected():
        return await _refusal(owner, command, gone["id"])

    error = await eventually(
        refused_once_disconnected, timeout_s=30, what=f"the {command} to see the disconnect"
    )
    assert "disconnected" in error["message"]


async def _accepted(api: Gateway, command: str, connection_id: str) -> bool | None:
    return True if await _refusal(api, command, connection_id) is None else None
