"""Building the events connections and publishing would send."""

from __future__ import annotations

import uuid
from datetime import datetime
from urllib.parse import urlencode

from aligned_common.envelope import EventEnvelope
from aligned_common.events.connections import Connected, MetricPoint, MetricsFetched
from aligned_common.events.publishing import JobCreated, JobPublished, TargetRef, TargetResult
from aligned_common.identity import Identity

ANALYTICS_TOPIC = "aligned.analytics.events"


# The read replica of the tests is the same database under another application name.
READ_POOL_NAME = "aligned-analytics-read-replica"


def with_query(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


async def connect(harness, who: Identity, platform: str = "sandbox") -> uuid.UUID:
    connection_id = uuid.uuid4()
    event = await harness.publish(
        Connected(connection_id=connection_id, platform=platform, account_id=f"acct-{connection_id.hex[:6]}"),
        who.brand_id,
        who.tenant_id,
    )
    await harness.processed(event)
    return connection_id


async def fetched(harness, who: Identity, connection_id, platform, points, sync_id=None) -> EventEnvelope:
    """points: (remote_id or None, metric, cumulative value, observed_at)."""
    event = await harness.publish(
        MetricsFetched(
            sync_id=sync_id or uuid.uuid4(),
            connection_id=connection_id,
            platform=platform,
            points=[MetricPoint(remote_id=r, name=n, value=v, observed_at=t) for r, n, v, t in points],
        ),
        who.brand_id,
        who.tenant_id,
    )
    await harness.processed(event)
    return event


async def publish_post(
    harness, who: Identity, connection_id, platform, remote_id: str, published_at: datetime
) -> uuid.UUID:
    """What publishing sends for a job with one target that was posted at `published_at`."""
    job_id, target_id = uuid.uuid4(), uuid.uuid4()
    await harness.publish(
        JobCreated(
            job_id=job_id,
            author_id=who.user_id,
            requires_approval=False,
            content="hello",
            targets=[TargetRef(target_id=target_id, platform=platform, connection_id=connection_id)],
        ),
        who.brand_id,
        who.tenant_id,
    )
    published = await harness.publish(
        JobPublished(
            job_id=job_id,
            targets=[
                TargetResult(target_id=target_id, platform=platform, status="published", remote_id=remote_id)
            ],
        ),
        who.brand_id,
        who.tenant_id,
        time=published_at,
    )
    await harness.processed(published)
    return job_id


def events_of(records, who: Identity, event_type: str) -> list[EventEnvelope]:
    found = []
    for record in records:
        envelope = EventEnvelope.from_bytes(record.value)
        if envelope.brand_id == who.brand_id and envelope.type == event_type:
            found.append(envelope)
    return found
