"""HTTP API (behind the gateway): translate the request, call a handler, translate the answer.
Tokens never leave the service: no response carries one."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, SecretStr, field_validator

from aligned_common.app import dependency
from aligned_common.identity import Caller, require_role
from aligned_connections.domain.connection import Connection, Status
from aligned_connections.service_layer import connections, oauth
from aligned_connections.service_layer.deps import Deps

router = APIRouter(prefix="/v1/connections", tags=["connections"])

CONNECTORS = ("owner", "admin")  # who may connect and disconnect accounts
MAINTAINERS = ("owner", "admin", "editor")  # who may verify or refresh them

PlatformName = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,40}$")]
Service = Annotated[Deps, Depends(dependency(Deps))]


class ConnectionOut(BaseModel):
    id: uuid.UUID
    platform: str
    account_id: str
    account_name: str
    scopes: list[str]
    status: Status
    expires_at: datetime | None
    has_refresh_token: bool
    last_verified_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, connection: Connection) -> ConnectionOut:
        return cls(
            id=connection.id,
            platform=connection.platform,
            account_id=connection.account_id,
            account_name=connection.account_name,
            scopes=connection.scopes,
            status=connection.status,
            expires_at=connection.expires_at,
            has_refresh_token=connection.can_refresh,
            last_verified_at=connection.last_verified_at,
            last_error=connection.last_error,
            created_at=connection.created_at,
            updated_at=connection.updated_at,
        )


class StartAuthorization(BaseModel):
    redirect_uri: str = Field(min_length=8, max_length=2000)
    scopes: list[str] | None = Field(default=None, max_length=20)

    @field_validator("redirect_uri")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value


class AuthorizationStarted(BaseModel):
    authorization_url: str
    state: str
    expires_at: datetime


class CompleteAuthorization(BaseModel):
    code: str = Field(min_length=1, max_length=2000)
    state: str = Field(min_length=1, max_length=2000)


class AppPasswordIn(BaseModel):
    identifier: str = Field(min_length=1, max_length=300)
    password: SecretStr = Field(min_length=1, max_length=300)


class Connected(BaseModel):
    connection: ConnectionOut
    created: bool
    # Where one login owns several publishable accounts (Facebook Pages, Instagram accounts
    # linked to them), a connection per account: the first is `connection`, the rest here.
    also_connected: list[ConnectionOut] = Field(default_factory=list)


class Stats(BaseModel):
    total: int
    by_platform: dict[str, dict[str, int]]


class PlatformOut(BaseModel):
    name: str


@router.get("")
async def list_connections(
    identity: Caller,
    deps: Service,
    platform: str | None = None,
    status: Status | None = None,
) -> list[ConnectionOut]:
    found = await connections.list_connections(deps, identity, platform, status.value if status else None)
    return [ConnectionOut.of(c) for c in found]


@router.get("/platforms")
async def list_platforms(identity: Caller, deps: Service) -> list[PlatformOut]:
    return [PlatformOut(name=name) for name in deps.platforms.names()]


@router.get("/expiring")
async def expiring(
    identity: Caller,
    deps: Service,
    within_hours: Annotated[float, Query(gt=0, le=24 * 365)] = 24,
) -> list[ConnectionOut]:
    return [ConnectionOut.of(c) for c in await connections.expiring(deps, identity, within_hours)]


@router.get("/stats")
async def stats(identity: Caller, deps: Service) -> Stats:
    by_platform = await connections.stats(deps, identity)
    return Stats(total=sum(sum(counts.values()) for counts in by_platform.values()), by_platform=by_platform)


@router.post("/oauth/{platform}/start", status_code=201)
async def start_authorization(
    platform: PlatformName,
    body: StartAuthorization,
    identity: Caller,
    deps: Service,
) -> AuthorizationStarted:
    require_role(identity, *CONNECTORS)
    started = await oauth.start(deps, identity, deps.platform(platform), body.redirect_uri, body.scopes)
    return AuthorizationStarted(
        authorization_url=started.authorization_url, state=started.state, expires_at=started.expires_at
    )


@router.post("/oauth/{platform}/callback")
async def complete_authorization(
    platform: PlatformName,
    body: CompleteAuthorization,
    identity: Caller,
    deps: Service,
) -> Connected:
    require_role(identity, *CONNECTORS)
    connected = await oauth.callback(deps, identity, deps.platform(platform), body.code, body.state)
    (connection, created), others = connected[0], connected[1:]
    return Connected(
        connection=ConnectionOut.of(connection),
        created=created,
        also_connected=[ConnectionOut.of(other) for other, _ in others],
    )


@router.post("/app-password/{platform}")
async def connect_with_app_password(
    platform: PlatformName,
    body: AppPasswordIn,
    identity: Caller,
    deps: Service,
) -> Connected:
    require_role(identity, *CONNECTORS)
    connection, created = await oauth.connect_with_app_password(
        deps, identity, deps.platform(platform), body.identifier, body.password.get_secret_value()
    )
    return Connected(connection=ConnectionOut.of(connection), created=created)


@router.get("/{connection_id}")
async def get_connection(connection_id: uuid.UUID, identity: Caller, deps: Service) -> ConnectionOut:
    return ConnectionOut.of(await connections.get(deps, identity, connection_id))


@router.post("/{connection_id}/verify")
async def verify(connection_id: uuid.UUID, identity: Caller, deps: Service) -> ConnectionOut:
    require_role(identity, *MAINTAINERS)
    return ConnectionOut.of(await connections.verify(deps, identity, connection_id))


@router.post("/{connection_id}/refresh")
async def refresh(connection_id: uuid.UUID, identity: Caller, deps: Service) -> ConnectionOut:
    require_role(identity, *MAINTAINERS)
    return ConnectionOut.of(await connections.refresh_now(deps, identity, connection_id))


@router.delete("/{connection_id}")
async def disconnect(connection_id: uuid.UUID, identity: Caller, deps: Service) -> ConnectionOut:
    require_role(identity, *CONNECTORS)
    return ConnectionOut.of(await connections.disconnect(deps, identity, connection_id))
