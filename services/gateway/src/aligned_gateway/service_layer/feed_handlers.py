"""What the gateway does with each domain event it sees on the live feed."""

from __future__ import annotations

from dataclasses import dataclass

from aligned_common.envelope import EventEnvelope
from aligned_gateway.service_layer.live_events import Hub
from aligned_gateway.service_layer.membership import MembershipCache
from aligned_gateway.service_layer.read_cache import ReadCache

MEMBER_EVENTS = frozenset({"gateway.member_added", "gateway.member_role_changed", "gateway.member_removed"})


@dataclass
class FeedHandlers:
    hub: Hub
    cache: ReadCache
    members: MembershipCache

    def __call__(self, envelope: EventEnvelope) -> None:
        # Invalidate first: a client that reacts to the streamed event must read fresh data.
        self.cache.invalidate(envelope.brand_id, envelope.source)
        if envelope.type in MEMBER_EVENTS:
            # Another replica changed a membership: drop our cached role for that user.
            self.members.forget(envelope.brand_id, str(envelope.data.get("user_id", envelope.subject)))
        elif envelope.type == "gateway.brand_archived":
            self.members.forget(envelope.brand_id)
        self.hub.publish(envelope)
