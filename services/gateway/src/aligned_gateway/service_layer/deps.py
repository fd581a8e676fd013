"""The gateway's one dependencies object: built once in bootstrap.build(), handed to the
pipeline, the routes (`Service`), the live feed and the loops alike."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aligned_common.app import Database
from aligned_common.clock import Clock
from aligned_gateway.adapters.jwt_verifier import TokenVerifier
from aligned_gateway.adapters.upstream import Upstreams
from aligned_gateway.config import Settings
from aligned_gateway.service_layer.admin import Admin
from aligned_gateway.service_layer.aggregates import Fanout
from aligned_gateway.service_layer.live_events import Hub
from aligned_gateway.service_layer.membership import MembershipCache
from aligned_gateway.service_layer.rate_limits import Limits
from aligned_gateway.service_layer.read_cache import ReadCache
from aligned_gateway.service_layer.stream_leases import StreamLeases


@dataclass
class Deps:
    settings: Settings
    database: Database
    clock: Clock
    upstreams: Upstreams
    verifier: TokenVerifier
    members: MembershipCache
    cache: ReadCache
    limits: Limits
    admin: Admin
    fanout: Fanout
    openapi: dict[str, Any]  # the checked-in API document (service_layer/openapi.py)
    stream_leases: StreamLeases
    hub: Hub | None  # None: live events are switched off
    # Set once the live feed has its partitions assigned (tests wait for it).
    feed_ready: asyncio.Event = field(default_factory=asyncio.Event)
