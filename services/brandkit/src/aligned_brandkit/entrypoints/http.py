"""Translate a request, call a handler, translate its answer; the app maps domain errors.

The kit's version is its ETag: GET answers it, PUT and restore take it back in If-Match
(412 when it is not the current one any more, 428 when a change to an existing kit has none).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import BaseModel, Field

from aligned_brandkit.domain.model import KitVersion, parse_if_match
from aligned_brandkit.service_layer import kits
from aligned_brandkit.service_layer.deps import Deps
from aligned_common.app import dependency
from aligned_common.events.brandkit import BrandKit
from aligned_common.identity import Identity, current_identity, require_role
from aligned_common.problems import problem_responses

router = APIRouter(prefix="/v1/brand-kit")
Service = Annotated[Deps, Depends(dependency(Deps))]
Caller = Annotated[Identity, Depends(current_identity)]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100)]
Version = Annotated[int, Path(ge=1, le=2_000_000_000)]
MANAGERS = ("owner", "admin")  # the gateway's brandkit.manage


class KitOut(BaseModel):
    version: int
    kit: BrandKit
    author_id: str = Field(description="who made this version")
    created_at: datetime
    restored_from: int | None = Field(description="the version this one restored, if it is a restore")

    @classmethod
    def of(cls, version: KitVersion) -> KitOut:
        return cls.model_validate(version, from_attributes=True)


class VersionOut(BaseModel):
    version: int
    author_id: str
    created_at: datetime
    restored_from: int | None


class VersionPage(BaseModel):
    items: list[VersionOut]
    next_before: int | None = Field(description="pass as `before` for the next (older) page")


class Change(BaseModel):
    field: str = Field(description="dotted path into the kit, e.g. platforms.instagram.hashtag_limit")
    before: Any
    after: Any


class DiffOut(BaseModel):
    from_version: int
    to_version: int
    changes: list[Change]


def _answer(response: Response, version: KitVersion) -> KitOut:
    response.headers["ETag"] = version.etag
    return KitOut.of(version)


@router.get("", responses=problem_responses(404))
async def get_kit(deps: Service, identity: Caller, response: Response) -> KitOut:
    async with deps.uow(identity.brand_id) as uow:
        return _answer(response, await kits.current(uow, identity.brand_id))


@router.put("", responses=problem_responses(403, 412, 422, 428))
async def put_kit(
    body: BrandKit, deps: Service, identity: Caller, response: Response, if_match: IfMatch = None
) -> KitOut:
    """A new version of the brand's kit. The first needs no If-Match; later ones must send the
    ETag of the version they were made from."""
    require_role(identity, *MANAGERS)
    async with deps.uow(identity.brand_id) as uow:
        new = await kits.put(
            uow,
            identity.brand_id,
            identity.tenant_id,
            body,
            identity.user_id,
            parse_if_match(if_match),
            deps.clock.now(),
        )
    return _answer(response, new)


@router.get("/versions", responses=problem_responses(422))
async def list_versions(
    deps: Service,
    identity: Caller,
    before: Annotated[int | None, Query(ge=1, le=2_000_000_000)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> VersionPage:
    async with deps.uow(identity.brand_id) as uow:
        found = await uow.kits.versions(identity.brand_id, before, limit)
    items = [VersionOut.model_validate(v, from_attributes=True) for v in found]
    more = len(found) == limit and found[-1].version > 1
    return VersionPage(items=items, next_before=found[-1].version if more else None)


@router.get("/versions/{version}", responses=problem_responses(404))
async def get_version(version: Version, deps: Service, identity: Caller) -> KitOut:
    async with deps.uow(identity.brand_id) as uow:
        return KitOut.of(await kits.version(uow, identity.brand_id, version))


@router.post("/versions/{version}/restore", responses=problem_responses(403, 404, 412, 428))
async def restore_version(
    version: Version, deps: Service, identity: Caller, response: Response, if_match: IfMatch = None
) -> KitOut:
    """The old version's content becomes the next version (If-Match: the current ETag)."""
    require_role(identity, *MANAGERS)
    async with deps.uow(identity.brand_id) as uow:
        new = await kits.restore(
            uow,
            identity.brand_id,
            identity.tenant_id,
            version,
            identity.user_id,
            parse_if_match(if_match),
            deps.clock.now(),
        )
    return _answer(response, new)


@router.get("/diff", responses=problem_responses(404, 422))
async def diff_versions(
    deps: Service,
    identity: Caller,
    from_version: Annotated[int, Query(alias="from", ge=1, le=2_000_000_000)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=2_000_000_000)],
) -> DiffOut:
    """What changed from one version to another, field by field."""
    async with deps.uow(identity.brand_id) as uow:
        changes = await kits.compare(uow, identity.brand_id, from_version, to_version)
    return DiffOut(from_version=from_version, to_version=to_version, changes=[Change(**c) for c in changes])
