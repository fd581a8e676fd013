"""The declarative route table: public path -> owning service and the permission it needs.

Public paths equal the services' own paths (every service serves /v1/...), so the
gateway forwards the path unchanged: the one reading of it that the pipeline made
(domain/paths.py), which is also what this table is matched against. The first matching row wins: more specific
patterns come first (/v1/jobs/{id}/approvals belongs to approval, /v1/jobs to publishing).
A route with `permission=None` needs no login (the service verifies its own credential:
a platform's webhook signature, a signed review link).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aligned_gateway.domain.permissions import Permission as P

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Route:
    pattern: str  # a path prefix; `{id}` matches one segment
    service: str
    write: P | None  # permission for POST/PUT/PATCH/DELETE
    read: P | None = P.READ  # permission for GET/HEAD
    public: bool = False  # no JWT: the service checks its own credential
    body: str = "json"  # the body-size class (Settings.body_limit): "json" or "media"

    def regex(self) -> re.Pattern[str]:
        body = re.escape(self.pattern).replace(re.escape("{id}"), "[^/]+")
        return re.compile(f"^{body}(?:/.*)?$")

    def permission_for(self, method: str) -> P | None:
        return self.read if method in READ_METHODS else self.write


ROUTES: tuple[Route, ...] = (
    # approval: rounds of a job first, before publishing's /v1/jobs
    Route("/v1/jobs/{id}/approvals", "approval", write=P.APPROVAL_DECIDE),
    Route("/v1/approvals/{id}/decision", "approval", write=P.APPROVAL_DECIDE),
    Route("/v1/approvals/{id}/links", "approval", write=P.APPROVAL_MANAGE),
    Route("/v1/approvals", "approval", write=P.APPROVAL_MANAGE),
    Route("/v1/reviewers", "approval", write=P.APPROVAL_MANAGE),
    Route("/v1/policies", "approval", write=P.APPROVAL_MANAGE),
    Route("/v1/escalation-rules", "approval", write=P.APPROVAL_MANAGE),
    Route("/v1/client-settings", "approval", write=P.APPROVAL_MANAGE),
    Route("/v1/audit-logs", "approval", write=P.AUDIT_READ, read=P.AUDIT_READ),
    Route("/review", "approval", write=None, read=None, public=True),
    Route("/unsubscribe", "approval", write=None, read=None, public=True),  # the signed link in a mail
    # publishing
    Route("/v1/jobs", "publishing", write=P.CONTENT_WRITE),
    Route("/v1/media-quota", "publishing", write=P.CONTENT_WRITE),
    Route("/v1/media", "publishing", write=P.CONTENT_WRITE, body="media"),
    # a CSV file of posts: the larger body class; publishing bounds it by its own import_max_bytes
    Route("/v1/imports", "publishing", write=P.CONTENT_WRITE, body="media"),
    # RSS/Atom subscriptions: members read them, writers make and change them
    Route("/v1/feed-subscriptions", "publishing", write=P.CONTENT_WRITE),
    # any member may make (and revoke) their own feed; publishing checks which scope and whose
    Route("/v1/calendar-feeds", "publishing", write=P.READ),
    Route(
        "/calendar", "publishing", write=None, read=None, public=True
    ),  # the feed's token is the credential
    # connections
    Route("/v1/connections", "connections", write=P.CONNECTIONS_MANAGE, read=P.CONNECTIONS_READ),
    # analytics
    Route("/v1/analytics", "analytics", write=P.ANALYTICS_WRITE),
    # client report links: a secret URL shows the brand's figures, so only managers make and see them
    Route("/v1/reports/links", "analytics", write=P.REPORTS_SHARE, read=P.REPORTS_SHARE),
    Route("/report", "analytics", write=None, read=None, public=True),  # the link's token is the credential
    # webhooks: outbound endpoints (managers only) and inbound platform webhooks (signed by the platform)
    Route("/v1/webhook-event-types", "webhooks", write=P.WEBHOOKS_MANAGE, read=P.WEBHOOKS_MANAGE),
    Route("/v1/webhook-endpoints", "webhooks", write=P.WEBHOOKS_MANAGE, read=P.WEBHOOKS_MANAGE),
    Route("/v1/webhook-deliveries", "webhooks", write=P.WEBHOOKS_MANAGE, read=P.WEBHOOKS_MANAGE),
    Route("/webhooks", "webhooks", write=None, read=None, public=True),
    # engagement: the inbox (staff and viewers read it; clients and approvers do not)
    Route("/v1/engagement/sla", "engagement", write=P.ENGAGEMENT_MANAGE, read=P.ENGAGEMENT_READ),
    Route("/v1/engagement", "engagement", write=P.ENGAGEMENT_WRITE, read=P.ENGAGEMENT_READ),
    # brandkit: every member reads the kit (its voice and rules); managers change it
    Route("/v1/brand-kit", "brandkit", write=P.BRANDKIT_MANAGE),
)

_COMPILED = [(route.regex(), route) for route in ROUTES]


def match(path: str) -> Route | None:
    for regex, route in _COMPILED:
        if regex.match(path):
            return route
    return None
