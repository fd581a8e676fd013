"""Which service answers a proxied request, and whether the caller's role may ask it."""

from __future__ import annotations

from aligned_common.identity import Identity
from aligned_gateway.domain import routes
from aligned_gateway.domain.errors import Forbidden, NotFound, Unauthenticated
from aligned_gateway.domain.permissions import allows


def route_for(method: str, path: str, identity: Identity | None) -> routes.Route:
    """The route-table row for the path, once the caller's role has the permission it names
    for this method (a public row needs none: the service checks its own credential)."""
    route = routes.match(path)
    if route is None:
        raise NotFound(title="Not found", detail=f"no route for {path}")
    permission = route.permission_for(method)
    if route.public or permission is None:
        return route
    if identity is None:  # the pipeline authenticates every non-public route before this
        raise Unauthenticated(title="Unauthenticated", detail="missing bearer token")
    if not allows(identity.role, permission):
        raise Forbidden(title="Forbidden", detail=f"role {identity.role!r} lacks {permission.value}")
    return route
