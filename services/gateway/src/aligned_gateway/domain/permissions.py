"""Roles and the permission matrix: the ONE place that says which role may do what.

Every public route names one permission (domain/routes.py and the gateway's own routes);
the gateway checks it before anything reaches a service. Services check their own
roles again (defence in depth), but this matrix is the documented source of truth
(docs/permissions.md is generated from the same table by `permission_table_markdown`).
"""

from __future__ import annotations

from enum import StrEnum

ROLES: tuple[str, ...] = ("owner", "admin", "editor", "approver", "client", "viewer")

# A role's rank decides who may grant which role: nobody grants above their own rank.
ROLE_RANK: dict[str, int] = {"owner": 5, "admin": 4, "editor": 3, "approver": 2, "client": 2, "viewer": 1}


class Permission(StrEnum):
    READ = "brand.read"  # see the brand's jobs, approvals, analytics, dashboards
    CONTENT_WRITE = "content.write"  # create/edit/schedule/cancel jobs, upload media
    APPROVAL_DECIDE = "approval.decide"  # approve, reject, request changes
    APPROVAL_MANAGE = "approval.manage"  # policies, escalation rules, client settings, review links
    AUDIT_READ = "audit.read"
    CONNECTIONS_READ = "connections.read"
    CONNECTIONS_MANAGE = "connections.manage"  # connect, refresh, disconnect platform accounts
    ANALYTICS_WRITE = "analytics.write"  # syncs, goals, plans, advisor feedback
    REPORTS_SHARE = "reports.share"  # make, list and revoke client report links
    WEBHOOKS_MANAGE = "webhooks.manage"  # outbound endpoints, secrets, replays
    MEMBERS_READ = "members.read"
    MEMBERS_MANAGE = "members.manage"  # invite, change roles, remove members
    BRAND_CREATE = "brand.create"  # tenant level: see service_layer/admin.create_brand
    BRAND_ARCHIVE = "brand.archive"
    EVENTS_STREAM = "events.stream"
    ENGAGEMENT_READ = "engagement.read"  # the inbox of comments, mentions, reviews
    ENGAGEMENT_WRITE = "engagement.write"  # assign, change state, reply, templates
    ENGAGEMENT_MANAGE = "engagement.manage"  # the brand's SLA
    BRANDKIT_MANAGE = "brandkit.manage"  # change or restore the brand kit (any member reads it)


_ALL = set(ROLES)
_STAFF = {"owner", "admin", "editor"}
_MANAGERS = {"owner", "admin"}

MATRIX: dict[Permission, frozenset[str]] = {
    Permission.READ: frozenset(_ALL),
    Permission.CONTENT_WRITE: frozenset(_STAFF),
    Permission.APPROVAL_DECIDE: frozenset({"owner", "admin", "approver", "client"}),
    Permission.APPROVAL_MANAGE: frozenset(_MANAGERS),
    Permission.AUDIT_READ: frozenset(_MANAGERS),
    Permission.CONNECTIONS_READ: frozenset(_STAFF | {"viewer"}),
    Permission.CONNECTIONS_MANAGE: frozenset(_MANAGERS),
    Permission.ANALYTICS_WRITE: frozenset(_STAFF),
    Permission.REPORTS_SHARE: frozenset(_MANAGERS),
    Permission.WEBHOOKS_MANAGE: frozenset(_MANAGERS),
    Permission.MEMBERS_READ: frozenset(_STAFF),
    Permission.MEMBERS_MANAGE: frozenset(_MANAGERS),
    Permission.BRAND_CREATE: frozenset(_MANAGERS),
    Permission.BRAND_ARCHIVE: frozenset({"owner"}),
    Permission.EVENTS_STREAM: frozenset(_ALL),
    Permission.ENGAGEMENT_READ: frozenset(_STAFF | {"viewer"}),
    Permission.ENGAGEMENT_WRITE: frozenset(_STAFF),
    Permission.ENGAGEMENT_MANAGE: frozenset(_MANAGERS),
    Permission.BRANDKIT_MANAGE: frozenset(_MANAGERS),
}

# Which live events (by type prefix) each role sees on GET /v1/events/stream. Clients and
# approvers see the content they review, not the agency's accounts, hooks or staff changes.
EVENT_VISIBILITY: dict[str, frozenset[str]] = {
    "publishing.": frozenset(_ALL),
    "approval.": frozenset(_ALL),
    "analytics.": frozenset(_STAFF | {"viewer"}),
    "connections.": frozenset(_STAFF | {"viewer"}),
    "webhooks.": frozenset(_MANAGERS),
    "gateway.": frozenset(_MANAGERS),
    "engagement.": frozenset(_STAFF | {"viewer"}),
    "brandkit.": frozenset(_STAFF | {"viewer"}),
}


def allows(role: str, permission: Permission) -> bool:
    return role in MATRIX[permission]


def may_see_event(role: str, event_type: str) -> bool:
    for prefix, roles in EVENT_VISIBILITY.items():
        if event_type.startswith(prefix):
            return role in roles
    return False  # an event family nobody listed is not shown


def may_grant(granter_role: str, role: str) -> bool:
    """An admin cannot make someone owner; only an owner hands out ownership."""
    return ROLE_RANK[role] <= ROLE_RANK[granter_role]


def permission_table_markdown() -> str:
    header = "| permission | " + " | ".join(ROLES) + " |"
    lines = [header, "|---|" + "---|" * len(ROLES)]
    for permission, roles in MATRIX.items():
        cells = " | ".join("yes" if role in roles else "" for role in ROLES)
        lines.append(f"| `{permission.value}` | {cells} |")
    return "\n".join(lines)
