"""Operator actions that belong to a service are asked of that service over its own HTTP API.

The tool signs the identity headers the gateway would send (ALIGNED_INTERNAL_SECRET is in
every pod), as an `admin` of the brand concerned with user id `ops:<operator>`, so the
service applies its usual rules and its audit shows who acted. Nothing here reads another
service's tables.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx

from aligned_common.admin.settings import service_url
from aligned_common.identity import Identity, bind_request, signed_headers


class ServiceError(RuntimeError):
    pass


class BrandClient:
    def __init__(
        self,
        service: str,
        tenant_id: uuid.UUID,
        brand_id: uuid.UUID,
        operator: str,
        base_url: str | None = None,
    ):
        self.identity = Identity(tenant_id, brand_id, f"ops:{operator}", "admin")
        self.base_url = base_url or service_url(service)
        self.service = service

    async def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            request = client.build_request(method, path, headers=signed_headers(self.identity), **kwargs)
            bind_request(request, self.service)  # bound to this method, path, service and body
            response = await client.send(request)
        if response.status_code >= 400:
            raise ServiceError(
                f"{self.service} {method} {path}: {response.status_code} {response.text[:500]}"
            )
        return response


# -- webhooks --------------------------------------------------------------------------------


async def failed_webhook_deliveries(
    client: BrandClient, since: datetime, endpoint_id: uuid.UUID | None
) -> list[dict]:
    endpoints = (
        [str(endpoint_id)]
        if endpoint_id
        else [e["id"] for e in (await client.request("GET", "/v1/webhook-endpoints")).json()]
    )
    failed = []
    for endpoint in endpoints:
        rows = (
            await client.request(
                "GET",
                f"/v1/webhook-endpoints/{endpoint}/deliveries",
                params={"status": "failed", "limit": 500},
            )
        ).json()
        failed += [{**r, "endpoint_id": endpoint} for r in rows if _created_since(r, since)]
    return failed


def _created_since(row: dict, since: datetime) -> bool:
    created = row.get("created_at")
    return created is None or datetime.fromisoformat(created.replace("Z", "+00:00")) >= since


async def replay_webhook_deliveries(
    client: BrandClient, since: datetime, endpoint_id: uuid.UUID | None
) -> dict[str, int]:
    endpoints = (
        [str(endpoint_id)]
        if endpoint_id
        else [e["id"] for e in (await client.request("GET", "/v1/webhook-endpoints")).json()]
    )
    replayed = {}
    for endpoint in endpoints:
        body = (
            await client.request(
                "POST", f"/v1/webhook-endpoints/{endpoint}/replay", json={"since": since.isoformat()}
            )
        ).json()
        replayed[endpoint] = body.get("replayed", 0)
    return replayed


async def replay_webhook_delivery(client: BrandClient, delivery_id: uuid.UUID) -> None:
    await client.request("POST", f"/v1/webhook-deliveries/{delivery_id}/replay")


# -- connections -----------------------------------------------------------------------------


async def expiring_connections(client: BrandClient, within_hours: float) -> list[dict]:
    return (
        await client.request("GET", "/v1/connections/expiring", params={"within_hours": within_hours})
    ).json()


# -- publishing ------------------------------------------------------------------------------


async def publishing_job(client: BrandClient, job_id: uuid.UUID) -> dict:
    return (await client.request("GET", f"/v1/jobs/{job_id}")).json()


async def redrive_publishing_job(client: BrandClient, job_id: uuid.UUID) -> dict:
    """Release a ready or scheduled job now (the dispatcher's due pass missed it)."""
    return (await client.request("POST", f"/v1/jobs/{job_id}/publish-now")).json()


async def media_quota(client: BrandClient, quota_bytes: int | None = None) -> dict:
    """The brand's media storage quota and usage; changed first when quota_bytes is given."""
    if quota_bytes is None:
        return (await client.request("GET", "/v1/media-quota")).json()
    return (await client.request("PATCH", "/v1/media-quota", json={"quota_bytes": quota_bytes})).json()
