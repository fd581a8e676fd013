"""Media: upload (sniffed, deduplicated, within quota), list, delete, quota usage.

The quota is enforced in the same transaction as the insert, with the brand's
storage_quotas row locked FOR UPDATE: two uploads of one brand serialize on it, so together
they can never overshoot, and used_bytes always equals the sum of the brand's assets.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from aligned_common.db import UnitOfWork
from aligned_common.identity import Identity
from aligned_common.platforms import PLATFORMS
from aligned_common.problems import Problem

from aligned_publishing.adapters.media_storage import storage_key
from aligned_publishing.adapters.sniff import sniff
from aligned_publishing.domain.status import FINISHED_JOB
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.errors import conflict, not_found

# Anything some platform accepts; a misfit for a given target is caught when a job uses it.
ACCEPTED_TYPES = frozenset(m for spec in PLATFORMS.values() for g in spec.limits.media.groups for m in g.mime_types)


@dataclass(frozen=True)
class Uploaded:
    asset: dict
    created: bool  # False: the brand already had these bytes (dedupe)


async def _quota_row(uow: UnitOfWork, deps: Deps, brand_id: uuid.UUID):
    await uow.conn.execute(
        "INSERT INTO storage_quotas (brand_id, quota_bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        brand_id,
        deps.settings.default_quota_bytes,
    )
    return await uow.conn.fetchrow("SELECT * FROM storage_quotas WHERE brand_id = $1 FOR UPDATE", brand_id)


async def upload(deps: Deps, identity: Identity, filename: str | None, data: bytes) -> Uploaded:
    if len(data) > deps.settings.max_upload_bytes:
        raise Problem(
            413,
            "Upload too large",
            detail=f"file is {len(data)} bytes; the limit is {deps.settings.max_upload_bytes}",
            errors=[{"field": "file", "message": "too large"}],
        )
    sniffed = sniff(data)
    if sniffed.mime_type not in ACCEPTED_TYPES:
        raise Problem(
            415,
            "Unsupported media type",
            detail=f"file content is {sniffed.mime_type or 'unrecognised'}; "
            f"accepted: {', '.join(sorted(ACCEPTED_TYPES))}",
            errors=[{"field": "file", "message": "type"}],
        )
    sha = hashlib.sha256(data).hexdigest()
    brand = identity.brand_id
    key = storage_key(brand, sha)
    wrote = False
    try:
        async with UnitOfWork(deps.pool, deps.schema, brand_id=brand) as uow:
            quota = await _quota_row(uow, deps, brand)  # serializes this brand's uploads from here
            existing = await uow.conn.fetchrow(
                "SELECT * FROM media_assets WHERE brand_id = $1 AND sha256 = $2", brand, sha
            )
            if existing is not None:
                return Uploaded(dict(existing), created=False)
            if quota["used_bytes"] + len(data) > quota["quota_bytes"]:
                raise Problem(
                    413,
                    "Storage quota exceeded",
                    detail=f"{len(data)} bytes would bring usage to {quota['used_bytes'] + len(data)} "
                    f"of {quota['quota_bytes']}",
                    used_bytes=quota["used_bytes"],
                    quota_bytes=quota["quota_bytes"],
                    errors=[{"field": "file", "message": "storage quota exceeded"}],
                )
            await deps.storage.put(key, data)
            wrote = True
            row = await uow.conn.fetchrow(
                """INSERT INTO media_assets (media_id, brand_id, sha256, mime_type, size_bytes, duration_s,
                                             storage_key, url, original_name, uploaded_by, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *""",
                uuid.uuid4(),
                brand,
                sha,
                sniffed.mime_type,
                len(data),
                sniffed.duration_s,
                key,
                deps.storage.url_of(key),
                (filename or "")[:255] or None,
                identity.user_id,
                deps.clock.now(),
            )
            await uow.conn.execute(
                "UPDATE storage_quotas SET used_bytes = used_bytes + $2 WHERE brand_id = $1", brand, len(data)
            )
        return Uploaded(dict(row), created=True)
    except BaseException:
        if wrote:  # the row did not commit: the file must not linger (the brand lock was held)
            await deps.storage.delete(key)
        raise


async def list_media(deps: Deps, identity: Identity, limit: int, before: uuid.UUID | None) -> list[dict]:
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        rows = await uow.conn.fetch(
            """SELECT * FROM media_assets WHERE brand_id = $1
                 AND ($2::uuid IS NULL OR (created_at, media_id) <
                      (SELECT created_at, media_id FROM media_assets WHERE media_id = $2))
               ORDER BY created_at DESC, media_id DESC LIMIT $3""",
            identity.brand_id,
            before,
            limit,
        )
    return [dict(r) for r in rows]


async def delete_media(deps: Deps, identity: Identity, media_id: uuid.UUID) -> None:
    brand = identity.brand_id
    async with UnitOfWork(deps.pool, deps.schema, brand_id=brand) as uow:
        await _quota_row(uow, deps, brand)
        asset = await uow.conn.fetchrow(
            "SELECT * FROM media_assets WHERE media_id = $1 AND brand_id = $2", media_id, brand
        )
        if asset is None:
            raise not_found("Media", media_id)
        users = await uow.conn.fetch(
            """SELECT j.job_id FROM media_usage u JOIN publishing_jobs j USING (job_id)
                WHERE u.media_id = $1 AND j.deleted_at IS NULL AND NOT (j.status = ANY($2))""",
            media_id,
            [s.value for s in FINISHED_JOB],
        )
        if users:
            raise conflict("media is used by jobs that have not gone out", job_ids=[str(u["job_id"]) for u in users])
        await uow.conn.execute("DELETE FROM media_assets WHERE media_id = $1", media_id)
        await uow.conn.execute(
            "UPDATE storage_quotas SET used_bytes = used_bytes - $2 WHERE brand_id = $1", brand, asset["size_bytes"]
        )
    await deps.storage.delete(asset["storage_key"])


async def quota_usage(deps: Deps, identity: Identity) -> dict:
    async with UnitOfWork(deps.pool, deps.schema, brand_id=identity.brand_id) as uow:
        row = await uow.conn.fetchrow(
            """SELECT q.quota_bytes, q.used_bytes, (SELECT count(*) FROM media_assets WHERE brand_id = $1) AS assets
                 FROM storage_quotas q WHERE q.brand_id = $1""",
            identity.brand_id,
        )
    if row is None:
        return {"quota_bytes": deps.settings.default_quota_bytes, "used_bytes": 0, "assets": 0}
    return dict(row)
