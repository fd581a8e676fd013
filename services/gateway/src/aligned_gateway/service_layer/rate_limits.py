"""Per-brand and per-user token buckets, held in PostgreSQL so every replica shares them.

One request takes one token from its brand's bucket and one from its user's bucket (in
that brand), in one transaction. The answer carries the tighter bucket's state in
RateLimit headers (draft-ietf-httpapi-ratelimit-headers); a refused request is a 429
with Retry-After.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aligned_common.app import Database
from aligned_common.db import UnitOfWork
from aligned_common.identity import Identity
from aligned_gateway.adapters import rate_limits_repo
from aligned_gateway.domain.errors import TooManyRequests


@dataclass(frozen=True)
class Limits:
    brand_rate_per_s: float
    brand_burst: float
    user_rate_per_s: float
    user_burst: float


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    policy: str  # which bucket this verdict describes
    limit: int
    remaining: int
    reset_s: int  # seconds until one token is back (when empty) or the bucket is full

    def headers(self) -> dict[str, str]:
        out = {
            "RateLimit-Policy": f'"{self.policy}";q={self.limit}',
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_s),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.reset_s)
        return out


def _verdict(policy: str, state: rate_limits_repo.BucketState, burst: float, rate: float) -> Verdict:
    if state.allowed:
        reset = math.ceil((burst - state.tokens) / rate)
    else:
        reset = max(1, math.ceil((1 - state.tokens) / rate))
    return Verdict(state.allowed, policy, int(burst), max(0, int(state.tokens)), reset)


async def check(database: Database, identity: Identity, limits: Limits) -> Verdict:
    async with UnitOfWork(database.pool, database.schema, brand_id=identity.brand_id) as uow:
        # A brand's bucket row is hot (every request of the brand locks it until commit):
        # not waiting for the WAL flush keeps that lock short. A crash can only forget a
        # few spent tokens, which is harmless for a rate limit.
        await uow.conn.execute("SET LOCAL synchronous_commit TO off")
        brand, user = await rate_limits_repo.take_both(
            uow.conn,
            identity.brand_id,
            f"user:{identity.user_id}",
            brand=(limits.brand_burst, limits.brand_rate_per_s),
            user=(limits.user_burst, limits.user_rate_per_s),
        )
    verdicts = [
        _verdict("brand", brand, limits.brand_burst, limits.brand_rate_per_s),
        _verdict("user", user, limits.user_burst, limits.user_rate_per_s),
    ]
    refused = [v for v in verdicts if not v.allowed]
    if refused:
        return max(refused, key=lambda v: v.reset_s)
    return min(verdicts, key=lambda v: v.remaining / max(v.limit, 1))


def too_many(verdict: Verdict) -> TooManyRequests:
    return TooManyRequests(
        title="Too many requests",
        detail=f"the {verdict.policy} rate limit is spent; retry in {verdict.reset_s} s",
        headers=verdict.headers(),
        retry_after=verdict.reset_s,
    )
