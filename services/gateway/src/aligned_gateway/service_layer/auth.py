"""From an Authorization header to the Identity a request acts as.

1. the bearer token is verified (signature, exp/nbf, iss, aud; pinned algorithms);
2. the brand is the token's only brand, or the X-Brand-Id header if the token lists several;
3. the role is the caller's CURRENT membership role in that brand, read from the gateway's
   tables (cached briefly): the role claim in a token is only what the identity provider
   believed when it issued the token, and must not outlive a role change or a removal.
   No membership (removed, never added, brand archived) is a 403; a brand the token does
   not name is a 403 too, since the caller asked for it by id.
"""

from __future__ import annotations

import uuid
from typing import cast

from aligned_common.identity import Identity, Role
from aligned_gateway.adapters.jwt_verifier import InvalidToken, TokenVerifier
from aligned_gateway.domain.claims import Claims
from aligned_gateway.domain.errors import BadRequest, Forbidden, Unauthenticated
from aligned_gateway.service_layer.ports import Roles


def unauthenticated(detail: str) -> Unauthenticated:
    return Unauthenticated(title="Unauthenticated", detail=detail)


def bearer_token(authorization: str | None, query_token: str | None = None) -> str:
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        raise unauthenticated("Authorization must be 'Bearer <token>'")
    if query_token:
        return query_token
    raise unauthenticated("missing bearer token")


async def verified_claims(verifier: TokenVerifier, token: str) -> Claims:
    try:
        return await verifier.verify(token)
    except InvalidToken as exc:
        raise unauthenticated(f"invalid token: {exc}") from None


def requested_brand(header_value: str | None) -> uuid.UUID | None:
    # Only an absent header means "the token's brand": an empty one is a bad value, like any other.
    if header_value is None:
        return None
    try:
        return uuid.UUID(header_value)
    except ValueError:
        raise BadRequest(title="Bad brand", detail="X-Brand-Id must be a UUID") from None


async def identity_for(claims: Claims, brand_header: str | None, members: Roles) -> Identity:
    brand_id = claims.brand_for(requested_brand(brand_header))
    if brand_id is None:
        if len(claims.brand_ids) > 1 and brand_header is None:
            raise BadRequest(title="Brand required", detail="the token names several brands: send X-Brand-Id")
        raise Forbidden(title="Forbidden", detail="the token does not grant access to this brand")
    role = await members.role_of(brand_id, claims.subject)
    if role is None:
        raise Forbidden(title="Forbidden", detail="not a member of this brand")
    # brand_members.role is one of ROLES (the table's CHECK): no other value comes back.
    return Identity(
        tenant_id=claims.tenant_id, brand_id=brand_id, user_id=claims.subject, role=cast(Role, role)
    )
