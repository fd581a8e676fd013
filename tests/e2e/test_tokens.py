"""Flow 3, tokens: connections refreshes an account's token before it expires; when a refresh
is refused the connection expires and publishing holds that account's posts with a reason
instead of failing them, until the owner reconnects."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from aligned_testing.flows import LiveEvents, held_post, job_in
from aligned_testing.gateway_client import BrandSetup, SandboxControl, connect_sandbox, eventually

pytestmark = pytest.mark.e2e


def _expiry(connection: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(connection["expires_at"])


async def test_tokens_are_refreshed_and_a_refused_refresh_holds_posts_until_reconnect(
    brand: BrandSetup, sandbox: SandboxControl
) -> None:
    owner = brand.owner.api
    connection_path = f"/v1/connections/{brand.connection_id}"
    # Short-lived tokens (the platform's choice), so the refresh-ahead is seen within seconds.
    await sandbox.configure(token_ttl_s=6)
    try:
        first = await owner.post(f"{connection_path}/refresh")
        first = first.get("connection", first)

        async def refreshed_ahead():
            now = await owner.get(connection_path)
            return now if now["status"] == "connected" and _expiry(now) > _expiry(first) else None

        # The scheduler refreshes at half the token's life, before it expires.
        later = await eventually(refreshed_ahead, timeout_s=30, what="a refresh before expiry")
        assert _expiry(later) > dt.datetime.now(dt.UTC)

        async with LiveEvents(owner) as live:
            # The platform now refuses the refresh token (as after a password change).
            await sandbox.add_fault(mode="error_401", endpoint="/oauth/token", method="POST", count=1000)
            try:
                await live.wait_for(
                    "connections.connection_expired", connection_id=brand.connection_id, timeout_s=60
                )
            finally:
                await sandbox.clear_faults()
            expired = await owner.get(connection_path)
            assert expired["status"] == "expired" and expired["last_error"]

            text = f"Held while the account is expired {uuid.uuid4().hex[:6]}"
            on_hold = await held_post(owner, brand.connection_id, text)
            assert on_hold["targets"][0]["held_reason"], on_hold
            assert (await sandbox.counts())["by_text"].get(text) is None  # nothing went out

            # The owner reconnects the same account: the held post goes out.
            await connect_sandbox(owner, sandbox.base_url, brand.extra["account"])
            await live.wait_for("connections.connection_restored", connection_id=brand.connection_id)
            published = await job_in(owner, on_hold["job_id"], ("published", "failed", "partially_published"))
    finally:
        await sandbox.configure(token_ttl_s=300)

    assert published["status"] == "published", published
    assert (await sandbox.counts())["by_text"][text] == 1
