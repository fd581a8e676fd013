"""Request and response bodies of the gateway's own routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

RoleName = Literal["owner", "admin", "editor", "approver", "client", "viewer"]


class DevTokenIn(BaseModel):
    sub: str = Field(min_length=1, max_length=200)
    tenant_id: uuid.UUID
    brand_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    role: RoleName = "owner"
    email: EmailStr | None = None
    ttl_s: int | None = Field(default=None, ge=1, le=24 * 3600)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int


class BrandIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    time_zone: str = Field(default="UTC", max_length=64)
    owner_email: EmailStr | None = Field(default=None, description="defaults to the token's email claim")


class BrandOut(BaseModel):
    brand_id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    time_zone: str
    status: Literal["active", "archived"]
    created_at: datetime
    archived_at: datetime | None
    role: RoleName | None = None


class MemberOut(BaseModel):
    member_id: uuid.UUID
    user_id: str
    email: str
    role: RoleName
    created_at: datetime


class MemberPage(BaseModel):
    items: list[MemberOut]
    next_cursor: str | None


class InviteIn(BaseModel):
    email: EmailStr
    role: RoleName


class InviteOut(BaseModel):
    invite_id: uuid.UUID
    email: str
    role: RoleName
    expires_at: datetime
    token: str = Field(description="single-use; shown only in this response; send it to the invitee")


class AcceptIn(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class RoleIn(BaseModel):
    role: RoleName


class Dashboard(BaseModel):
    brand_id: uuid.UUID
    calendar: list[dict] | None = Field(description="jobs in the range, each with its latest approval round")
    pending_approvals: list[dict]
    connections: list[dict] | None
    analytics: dict | None
    inbox: dict[str, int] | None = Field(
        default=None,
        description="engagement inbox items per state (null: not the caller's to see, or degraded)",
    )
    degraded: list[str] = Field(description="services that did not answer in time; their sections are null")


class PostDetail(BaseModel):
    job_id: uuid.UUID
    job: dict | None
    attempts: list[dict] | None
    approval_rounds: list[dict] | None
    metrics: list[dict] | None
    degraded: list[str]
