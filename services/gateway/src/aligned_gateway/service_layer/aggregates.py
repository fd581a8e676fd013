"""Aggregated reads for the frontend: fan out to the services in parallel, each call with
its own deadline; a slow or failing service makes the answer partial (`degraded`), never
an error. Only the post's own job is essential: a job the brand does not have is a 404."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from aligned_common.identity import Identity
from aligned_gateway.domain.errors import NotFound
from aligned_gateway.domain.permissions import Permission, allows
from aligned_gateway.service_layer.ports import UpstreamReads
from aligned_gateway.service_layer.read_cache import CACHED_SERVICES, ReadCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Call:
    section: str
    service: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    permission: Permission = Permission.READ


@dataclass
class Outcome:
    status: int | None
    body: object | None


@dataclass
class Fanout:
    upstreams: UpstreamReads
    cache: ReadCache
    deadline_s: float

    async def gather(
        self, identity: Identity, request_id: str | None, calls: list[Call]
    ) -> dict[str, Outcome | None]:
        """Every call at once; each answer, or None for a section the role may not see."""
        allowed = [c for c in calls if allows(identity.role, c.permission)]
        outcomes = await asyncio.gather(*(self._one(identity, request_id, c) for c in allowed))
        found: dict[str, Outcome | None] = {c.section: None for c in calls}
        found.update({c.section: o for c, o in zip(allowed, outcomes, strict=True)})
        return found

    async def _one(self, identity: Identity, request_id: str | None, call: Call) -> Outcome:
        async def load() -> Outcome:
            status, body = await self.upstreams.get_json(
                call.service, call.path, identity, request_id, call.params, timeout_s=self.deadline_s
            )
            if status >= 500:
                raise RuntimeError(f"{call.service} answered {status}")
            return Outcome(status, body)

        try:
            async with asyncio.timeout(self.deadline_s):
                if call.service in CACHED_SERVICES:
                    key = (
                        identity.brand_id,
                        call.service,
                        identity.role,
                        call.path,
                        tuple(sorted(call.params.items())),
                    )
                    return await self.cache.get_or_load(key, load)
                return await load()
        except Exception as exc:  # a slow or failing service makes its section degraded, no more
            log.warning("fan-out call failed", extra={"ctx_service": call.service, "ctx_error": repr(exc)})
            return Outcome(None, None)


def _ok(outcome: Outcome | None) -> TypeGuard[Outcome]:
    return outcome is not None and outcome.status is not None and outcome.status < 400


def _degraded(outcomes: dict[str, Outcome | None], calls: list[Call]) -> list[str]:
    return sorted(
        {c.service for c in calls if outcomes[c.section] is not None and not _ok(outcomes[c.section])}
    )


def _items(outcome: Outcome | None) -> list[Any]:
    body = outcome.body if _ok(outcome) else None
    return body.get("items", []) if isinstance(body, dict) else body if isinstance(body, list) else []


def _counts(outcome: Outcome | None) -> dict[str, int] | None:
    """A section of counts, or None when the answer is not one (the dashboard degrades that
    section instead of failing as a whole)."""
    body = outcome.body if _ok(outcome) else None
    if isinstance(body, dict) and all(isinstance(v, int) and not isinstance(v, bool) for v in body.values()):
        return body
    return None


def _approvals_by_job(rounds: list[Any]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for round_ in rounds:
        if isinstance(round_, dict) and round_.get("job_id"):
            job = str(round_["job_id"])
            if job not in latest or (round_.get("round") or 0) > (latest[job].get("round") or 0):
                latest[job] = round_
    return latest


async def dashboard(
    fanout: Fanout, identity: Identity, request_id: str | None, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    calendar_range = {k: v.isoformat() for k, v in (("from", start), ("to", end)) if v is not None}
    calls = [
        Call("calendar", "publishing", "/v1/jobs", {**calendar_range, "limit": 200}),
        Call("approvals", "approval", "/v1/approvals", {"limit": 200}),
        Call("connections", "connections", "/v1/connections", permission=Permission.CONNECTIONS_READ),
        Call("analytics", "analytics", "/v1/analytics/summary"),
        Call("inbox", "engagement", "/v1/engagement/counts", permission=Permission.ENGAGEMENT_READ),
    ]
    outcomes = await fanout.gather(identity, request_id, calls)
    approvals = _approvals_by_job(_items(outcomes["approvals"]))
    calendar = [
        {**job, "approval": approvals.get(str(job.get("job_id")))}
        for job in _items(outcomes["calendar"])
        if isinstance(job, dict)
    ]
    inbox = _counts(outcomes["inbox"])
    malformed = ["engagement"] if _ok(outcomes["inbox"]) and inbox is None else []
    return {
        "brand_id": str(identity.brand_id),
        "calendar": calendar if _ok(outcomes["calendar"]) else None,
        "pending_approvals": [r for r in approvals.values() if r.get("status") == "pending"],
        "connections": _items(outcomes["connections"]) if _ok(outcomes["connections"]) else None,
        "analytics": outcomes["analytics"].body if _ok(outcomes["analytics"]) else None,
        "inbox": inbox,
        "degraded": sorted({*_degraded(outcomes, calls), *malformed}),
    }


async def post_detail(
    fanout: Fanout, identity: Identity, request_id: str | None, job_id: uuid.UUID
) -> dict[str, Any]:
    calls = [
        Call("job", "publishing", f"/v1/jobs/{job_id}"),
        Call("approvals", "approval", f"/v1/jobs/{job_id}/approvals"),
        Call("metrics", "analytics", "/v1/analytics/posts", {"job_id": str(job_id), "limit": 200}),
    ]
    outcomes = await fanout.gather(identity, request_id, calls)
    job = outcomes["job"]
    if job is not None and job.status == 404:
        raise NotFound(title="Not found", detail="no such post")
    degraded = _degraded(outcomes, calls)
    approvals_404 = outcomes["approvals"] is not None and outcomes["approvals"].status == 404
    job_body = job.body if _ok(job) and isinstance(job.body, dict) else None
    return {
        "job_id": str(job_id),
        "job": job_body,
        "attempts": (job_body or {}).get("attempts") if job_body else None,
        "approval_rounds": []
        if approvals_404
        else _items(outcomes["approvals"])
        if _ok(outcomes["approvals"])
        else None,
        "metrics": [
            m
            for m in _items(outcomes["metrics"])
            if isinstance(m, dict) and str(m.get("job_id")) == str(job_id)
        ]
        if _ok(outcomes["metrics"])
        else None,
        "degraded": [d for d in degraded if not (d == "approval" and approvals_404)],
    }
