"""Media: upload (sniffed, checked, deduplicated, within quota), list, delete, purge, quota.

The bytes are in the object store, the rows in PostgreSQL, and the two stay consistent:
- an upload is checked completely (size, type sniffed from the bytes, an image that decodes)
  before anything is written, so a refused upload leaves nothing; what is stored is the image
  without its metadata (Exif with GPS, XMP, IPTC: adapters/scrub.py), losslessly;
- each upload writes its own object (`<brand_id>/<media_id>`) first, holding no lock, then
  inserts its row in a transaction with the brand's storage_quotas row locked FOR UPDATE (two
  uploads of one brand serialize on it for a few statements, so together they never overshoot,
  and used_bytes is exactly the sum of the brand's live assets); an upload that is refused
  there (quota), loses to the same bytes uploaded at once, or does not commit deletes its
  object again;
- a delete hides the asset and frees its quota at once (soft delete); the purge loop removes
  the object, then the row, `media_purge_after_s` later;
- beside an image's object sit its preview (`<key>.thumb`) and its platform-fit variants
  (`<key>.fit<n>`, adapters/variants.py), written and removed with it, not counted in the quota.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, BinaryIO, cast

import orjson
from botocore.exceptions import ClientError

from aligned_common.identity import Identity
from aligned_common.platforms import PLATFORMS
from aligned_publishing.adapters.object_store import PART, storage_key
from aligned_publishing.adapters.scrub import scrub
from aligned_publishing.adapters.sniff import Inspected, inspect
from aligned_publishing.adapters.thumbnail import thumbnail
from aligned_publishing.adapters.unit_of_work import SqlUnitOfWork
from aligned_publishing.adapters.variants import fit_variants, variants_of
from aligned_publishing.domain.errors import Conflict, Invalid, TooLarge, UnsupportedMedia
from aligned_publishing.domain.status import FINISHED_JOB
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.errors import conflict, invalid, not_found

# Anything some platform accepts; a misfit for a given target is caught when a job uses it.
ACCEPTED_TYPES = frozenset(
    m for spec in PLATFORMS.values() for g in spec.limits.media.groups for m in g.mime_types
)
# What a client may send instead of saying what the file is.
UNDECLARED = {"", "application/octet-stream", "binary/octet-stream"}
ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "video/x-m4v": "video/mp4"}


@dataclass(frozen=True)
class Uploaded:
    asset: dict[str, Any]
    created: bool  # False: the brand already had these bytes (dedupe)


async def _quota_row(uow: SqlUnitOfWork, deps: Deps, brand_id: uuid.UUID) -> Any:
    await uow.assets.ensure_quota(brand_id, deps.settings.default_quota_bytes)
    return await uow.assets.lock_quota(brand_id)


def _check_quota(quota: Mapping[str, Any], size_bytes: int) -> None:
    if quota["used_bytes"] + size_bytes > quota["quota_bytes"]:
        raise Conflict(
            title="Storage quota exceeded",
            detail=f"{size_bytes} bytes would bring the brand's usage from {quota['used_bytes']} "
            f"to {quota['used_bytes'] + size_bytes} bytes; its quota is {quota['quota_bytes']}",
            size_bytes=size_bytes,
            used_bytes=quota["used_bytes"],
            quota_bytes=quota["quota_bytes"],
            errors=[{"field": "file", "message": "storage quota exceeded"}],
        )


def _refuse(
    found: Inspected, declared: str | None, max_bytes: int, size_field: str = "file", type_field: str = "file"
) -> None:
    """The checks that need no database: each a problem+json naming the field (the file, or the
    claim of a presigned upload)."""
    if found.size_bytes > max_bytes:
        raise TooLarge(
            title="Upload too large",
            detail=f"file is larger than the limit of {max_bytes} bytes",
            limit_bytes=max_bytes,
            errors=[{"field": size_field, "message": f"larger than {max_bytes} bytes"}],
        )
    if found.mime_type not in ACCEPTED_TYPES:
        raise UnsupportedMedia(
            title="Unsupported media type",
            detail=f"file content is {found.mime_type or 'unrecognised'}; accepted: {', '.join(sorted(ACCEPTED_TYPES))}",
            sniffed_type=found.mime_type,
            errors=[{"field": type_field, "message": f"content is {found.mime_type or 'unrecognised'}"}],
        )
    claimed = ALIASES.get(declared, declared) if declared else ""
    if claimed not in UNDECLARED and claimed != found.mime_type:
        raise UnsupportedMedia(
            title="Content type does not match the file",
            detail=f"the upload says {declared} but its bytes are {found.mime_type}",
            declared_type=declared,
            sniffed_type=found.mime_type,
            errors=[{"field": "file", "message": f"declared {declared}, content is {found.mime_type}"}],
        )
    if found.image_error is not None:
        raise Invalid(
            title="Image does not decode",
            detail=f"the {found.mime_type} file is corrupt or truncated: {found.image_error}",
            errors=[{"field": "file", "message": "corrupt image"}],
        )


MAX_ALT_TEXT = 1500  # Mastodon's; a platform that takes less (X: 1000) is a warning to approvers


def _check_alt_text(alt_text: str) -> str:
    if len(alt_text) > MAX_ALT_TEXT:
        raise invalid(
            "alt_text", f"{len(alt_text)} characters; the limit is {MAX_ALT_TEXT}", limit=MAX_ALT_TEXT
        )
    return alt_text.strip()


async def upload(
    deps: Deps,
    identity: Identity,
    filename: str | None,
    declared_type: str | None,
    file: BinaryIO,
    alt_text: str = "",
) -> Uploaded:
    alt_text = _check_alt_text(alt_text)
    max_bytes = deps.settings.max_upload_bytes
    found = await asyncio.to_thread(inspect, file, max_bytes)
    declared = (declared_type or "").split(";")[0].strip().lower() or None
    _refuse(found, declared, max_bytes)
    # What is stored (and hashed, and counted) is the image without its metadata (GPS, camera).
    clean = await asyncio.to_thread(scrub, file, found.mime_type)
    if clean is None:
        return await _store(deps, identity, filename, file, found, alt_text)
    try:
        return await _store(
            deps, identity, filename, clean, await asyncio.to_thread(inspect, clean, max_bytes), alt_text
        )
    finally:
        clean.close()


async def _store(
    deps: Deps, identity: Identity, filename: str | None, file: BinaryIO, found: Inspected, alt_text: str
) -> Uploaded:
    brand = identity.brand_id
    # Cheap looks first (no lock): the same bytes again, or plainly over quota, write nothing.
    async with deps.sql_uow(brand) as uow:
        existing = await uow.assets.live_by_sha(brand, found.sha256)
        quota = await uow.assets.quota(brand)
    if existing is not None:
        return Uploaded(dict(existing), created=False)
    if quota is not None:
        _check_quota(quota, found.size_bytes)
    media_id = uuid.uuid4()
    key = storage_key(brand, media_id)
    preview = await asyncio.to_thread(thumbnail, file, found.mime_type)
    thumb_key = f"{key}.thumb" if preview else None
    fits = await asyncio.to_thread(fit_variants, file, found.mime_type, found.size_bytes)
    variants = {}
    for number, fit in enumerate(fits):
        about = {
            "key": f"{key}.fit{number}",
            "url": deps.storage.reference(f"{key}.fit{number}"),
            "mime_type": fit.mime_type,
            "size_bytes": len(fit.data),
            "sha256": fit.sha256,
            "width": fit.width,
            "height": fit.height,
        }
        variants.update(dict.fromkeys(fit.platforms, about))
    written = [key, *([thumb_key] if thumb_key else []), *(f"{key}.fit{n}" for n in range(len(fits)))]
    kept = False
    stale: list[str] | None = None
    try:
        # The objects are written before any lock is taken, so a long write (a video) holds up
        # no other upload of the brand; the transaction below decides whether they stay.
        assert found.mime_type is not None  # unrecognised bytes were refused (_refuse)
        await deps.storage.put(key, file, found.size_bytes, found.mime_type)
        if preview:
            assert thumb_key is not None  # a preview has its key
            await deps.storage.put(thumb_key, io.BytesIO(preview[0]), len(preview[0]), preview[1])
        for number, fit in enumerate(fits):
            await deps.storage.put(f"{key}.fit{number}", io.BytesIO(fit.data), len(fit.data), fit.mime_type)
        async with deps.sql_uow(brand) as uow:
            quota = await _quota_row(uow, deps, brand)  # serializes this brand's uploads from here
            existing = await uow.assets.lock_by_sha(brand, found.sha256)
            if existing is not None and existing["deleted_at"] is None:
                return Uploaded(dict(existing), created=False)  # a concurrent upload of the same bytes won
            _check_quota(quota, found.size_bytes)
            if existing is not None:  # deleted, not yet purged: the same asset is live again, on our objects
                stale = object_keys(existing)
                row = await uow.assets.revive(
                    existing["media_id"],
                    (filename or "")[:255] or None,
                    identity.user_id,
                    deps.clock.now(),
                    key,
                    deps.storage.reference(key),
                    thumb_key,
                    alt_text,
                    orjson.dumps(variants).decode(),
                    found.video_codec,
                )
            else:
                row = await uow.assets.insert(
                    media_id,
                    brand,
                    found.sha256,
                    found.mime_type,
                    found.size_bytes,
                    found.duration_s,
                    key,
                    deps.storage.reference(key),
                    (filename or "")[:255] or None,
                    identity.user_id,
                    deps.clock.now(),
                    thumb_key,
                    alt_text,
                    orjson.dumps(variants).decode(),
                    found.video_codec,
                )
            await uow.assets.add_usage(brand, found.size_bytes)
        kept = True
    finally:
        if not kept:  # refused, lost a race, or the row did not commit: our objects must not linger
            await asyncio.shield(_delete_objects(deps, written))
    if stale is not None:
        with contextlib.suppress(Exception):  # the revived asset's old objects (left: an orphan, no quota)
            await _delete_objects(deps, stale)
    assert row is not None  # the INSERT or UPDATE ... RETURNING answered it
    return Uploaded(dict(row), created=True)


def object_keys(asset: Mapping[str, Any]) -> list[str]:
    """Every object an asset's row stands for: the original first, its preview, its variants."""
    derived = [asset["thumbnail_key"], *sorted({v["key"] for v in variants_of(asset).values()})]
    return [asset["storage_key"], *(k for k in derived if k)]


async def _delete_objects(deps: Deps, keys: list[str]) -> None:
    for key in keys:
        await deps.storage.delete(key)


async def with_urls(deps: Deps, asset: dict[str, Any]) -> dict[str, Any]:
    """The asset as the API shows it: with short-lived URLs of its preview and variants."""
    ttl = deps.settings.media_url_ttl_s
    thumb = asset.get("thumbnail_key")
    url = await deps.storage.presigned_get(thumb, ttl) if thumb else None
    variants = {
        platform: {k: v for k, v in about.items() if k not in ("key", "url")}
        | {"url": await deps.storage.presigned_get(about["key"], ttl)}
        for platform, about in variants_of(asset).items()
    }
    return asset | {"thumbnail_url": url, "variants": variants}


# -- presigned uploads: the bytes go to the store directly, never through the gateway ---------
async def start_upload(
    deps: Deps,
    identity: Identity,
    *,
    filename: str | None,
    mime_type: str,
    size_bytes: int,
    sha256: str,
    alt_text: str = "",
    multipart: bool | None = None,
) -> dict[str, Any]:
    """Checks what can be checked from the claim (size, type, quota: the same problems as a direct
    upload) and hands out a presigned PUT URL, or, for a big file (or when asked), a multipart
    upload: one presigned URL per part of `part_size` bytes. Nothing is reserved: the quota is
    checked again when the upload completes, so an upload never completed holds none."""
    alt_text = _check_alt_text(alt_text)
    mime_type = ALIASES.get(mime_type.lower(), mime_type.lower())
    claimed = Inspected(size_bytes, sha256, mime_type, None, None)
    _refuse(
        claimed, mime_type, deps.settings.max_upload_bytes, size_field="size_bytes", type_field="mime_type"
    )
    brand = identity.brand_id
    upload_id = uuid.uuid4()
    key = f"uploads/{brand}/{upload_id}"
    now = deps.clock.now()
    ttl = deps.settings.upload_url_ttl_s
    expires_at = now + timedelta(seconds=ttl)
    if multipart is None:
        multipart = size_bytes > deps.settings.multipart_above_bytes
    # S3: parts of at least 5 MiB (but the last), at most 10,000 of them.
    part_size = (
        max(deps.settings.upload_part_bytes, PART, math.ceil(size_bytes / 10_000)) if multipart else None
    )
    multipart_id = await deps.storage.start_multipart(key, mime_type) if multipart else None
    try:
        async with deps.sql_uow(brand) as uow:
            quota = await _quota_row(uow, deps, brand)
            _check_quota(quota, size_bytes)
            await uow.assets.start_upload(
                upload_id,
                brand,
                key,
                (filename or "")[:255] or None,
                mime_type,
                size_bytes,
                sha256,
                alt_text,
                identity.user_id,
                now,
                expires_at,
                multipart_id,
                part_size,
            )
    except BaseException:
        if multipart_id:
            await asyncio.shield(deps.storage.abort_multipart(key, multipart_id))
        raise
    started = {
        "upload_id": upload_id,
        "method": "PUT",
        "expires_at": expires_at,
        "upload_url": None,
        "parts": [],
        "part_size": part_size,
        "headers": {},
    }
    if multipart_id is None:
        started |= {
            "upload_url": await deps.storage.presigned_put(key, mime_type, ttl),
            "headers": {"Content-Type": mime_type},
        }
    else:
        assert part_size is not None  # multipart uploads have a part size
        started["parts"] = [
            {"part_number": n, "url": await deps.storage.presigned_part(key, multipart_id, n, ttl)}
            for n in range(1, math.ceil(size_bytes / part_size) + 1)
        ]
    return started


async def complete_upload(
    deps: Deps, identity: Identity, upload_id: uuid.UUID, parts: list[dict[str, Any]] | None = None
) -> Uploaded:
    """The bytes are in the store: verify size, sha256 and type (sniffed) against the claim, then
    they become an asset exactly as a direct upload would (metadata removed, preview, quota).
    A multipart upload is first put together from its parts (all of them must be there; `parts`,
    when given, are the client's part numbers and ETags, which must match the store's).
    Whatever the outcome, except "not everything uploaded yet", the staging object and row are gone."""
    async with deps.sql_uow(identity.brand_id) as uow:
        pending = await uow.assets.upload(upload_id, identity.brand_id)
    if pending is None or pending["expires_at"] <= deps.clock.now():
        raise not_found("Upload", upload_id)
    key = pending["staging_key"]
    if pending["multipart_id"]:
        stored_parts = await _parts_ready(deps, pending, parts)
    elif await deps.storage.size_of(key) is None:
        raise conflict("nothing was uploaded yet: PUT the file to upload_url first", upload_id=str(upload_id))
    try:
        if pending["multipart_id"]:
            try:
                await deps.storage.complete_multipart(key, pending["multipart_id"], stored_parts)
            except ClientError as error:  # e.g. EntityTooSmall: a part other than the last under 5 MiB
                raise invalid(
                    "parts",
                    f"the store refused the parts: {error.response.get('Error', {}).get('Message')}",
                    part_size=pending["part_size"],
                ) from None
        size = await deps.storage.size_of(key)
        if size != pending["size_bytes"]:
            raise invalid(
                "size_bytes",
                f"the upload is {size} bytes, not the {pending['size_bytes']} announced",
                actual=size,
                expected=pending["size_bytes"],
            )
        # Read back once, in chunks, into a spooled file (disk past 1 MiB): the sha256 and the
        # type come from the bytes the store holds, never from the whole file in memory.
        with cast(BinaryIO, tempfile.SpooledTemporaryFile(1024 * 1024)) as file:
            await deps.storage.download(key, file)
            found = await asyncio.to_thread(inspect, file, deps.settings.max_upload_bytes)
            if found.sha256 != pending["sha256"]:
                raise invalid(
                    "sha256",
                    f"the upload's sha256 is {found.sha256}, not the {pending['sha256']} announced",
                    actual=found.sha256,
                    expected=pending["sha256"],
                )
            return await upload(
                deps, identity, pending["filename"], pending["mime_type"], file, pending["alt_text"]
            )
    finally:
        await asyncio.shield(_forget_upload(deps, identity.brand_id, upload_id, key, pending["multipart_id"]))


async def _parts_ready(
    deps: Deps, pending: Mapping[str, Any], claimed: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """The store's parts of a multipart upload when every one is there; a 409 naming the missing
    ones (the client may still send them) or a 422 when the client's list is not the store's."""
    stored = await deps.storage.uploaded_parts(pending["staging_key"], pending["multipart_id"])
    expected = math.ceil(pending["size_bytes"] / pending["part_size"])
    missing = sorted(set(range(1, expected + 1)) - {p["PartNumber"] for p in stored})
    if missing:
        raise conflict(f"parts {missing[:20]} of {expected} were not uploaded yet", missing_parts=missing)
    if claimed is not None:
        theirs = {(p["part_number"], p["etag"].strip('"')) for p in claimed}
        if theirs != {(p["PartNumber"], p["ETag"].strip('"')) for p in stored}:
            raise invalid("parts", "the part numbers and ETags are not those the store received")
    return stored


async def _forget_upload(
    deps: Deps, brand_id: uuid.UUID, upload_id: uuid.UUID, key: str, multipart_id: str | None
) -> None:
    if multipart_id:
        await deps.storage.abort_multipart(key, multipart_id)  # the parts of one never completed
    await deps.storage.delete(key)
    async with deps.sql_uow(brand_id) as uow:
        await uow.assets.forget_upload(upload_id)


async def purge_expired_uploads(deps: Deps, batch: int = 100) -> int:
    """Presigned uploads never completed: their parts, staging objects and rows go."""
    async with deps.sql_uow(role="worker") as uow:
        rows = await uow.assets.lock_expired_uploads(deps.clock.now(), batch)
        for row in rows:
            if row["multipart_id"]:
                await deps.storage.abort_multipart(row["staging_key"], row["multipart_id"])
            await deps.storage.delete(row["staging_key"])
        await uow.assets.forget_uploads([r["upload_id"] for r in rows])
    return len(rows)


async def list_media(
    deps: Deps, identity: Identity, limit: int, before: uuid.UUID | None
) -> list[dict[str, Any]]:
    async with deps.sql_uow(identity.brand_id) as uow:
        rows = await uow.assets.page(identity.brand_id, before, limit)
    return [dict(r) for r in rows]


async def get_media(deps: Deps, identity: Identity, media_id: uuid.UUID) -> dict[str, Any]:
    async with deps.sql_uow(identity.brand_id) as uow:
        row = await uow.assets.live(media_id, identity.brand_id)
    if row is None:
        raise not_found("Media", media_id)
    return dict(row)


async def media_usage(deps: Deps, identity: Identity, media_id: uuid.UUID) -> list[dict[str, Any]]:
    """Which jobs used the asset, and when (attached, detached, published), newest first."""
    await get_media(deps, identity, media_id)
    async with deps.sql_uow(identity.brand_id) as uow:
        rows = await uow.assets.usage_log(media_id, identity.brand_id)
    return [dict(r) for r in rows]


async def describe_media(
    deps: Deps, identity: Identity, media_id: uuid.UUID, alt_text: str
) -> dict[str, Any]:
    """Set an asset's alt text; attempts requested from now on carry it."""
    alt_text = _check_alt_text(alt_text)
    async with deps.sql_uow(identity.brand_id) as uow:
        row = await uow.assets.describe(media_id, identity.brand_id, alt_text)
    if row is None:
        raise not_found("Media", media_id)
    return dict(row)


async def delete_media(deps: Deps, identity: Identity, media_id: uuid.UUID) -> None:
    """Soft delete: hidden and its quota freed now; object and row go with the next purge."""
    brand = identity.brand_id
    async with deps.sql_uow(brand) as uow:
        await _quota_row(uow, deps, brand)
        asset = await uow.assets.lock_live(media_id, brand)
        if asset is None:
            raise not_found("Media", media_id)
        users = await uow.assets.unsent_jobs_using(media_id, [s.value for s in FINISHED_JOB])
        if users:
            raise conflict(
                "media is used by jobs that have not gone out", job_ids=[str(u["job_id"]) for u in users]
            )
        await uow.assets.mark_deleted(media_id, deps.clock.now())
        await uow.assets.free_usage(brand, asset["size_bytes"])


async def purge_deleted_media(deps: Deps, batch: int = 100) -> int:
    """Deleted assets past the grace time: the object first, then the row. A crash in between
    leaves a row whose object is gone, which the next round purges again (deleting a missing
    object is not an error); never an object without a row."""
    cutoff = deps.clock.now() - timedelta(seconds=deps.settings.media_purge_after_s)
    # Cross-brand by nature, hence the worker role. The row lock keeps a re-upload of the same
    # bytes (which locks the row too) from reviving an asset whose object is being deleted.
    async with deps.sql_uow(role="worker") as uow:
        rows = await uow.assets.lock_purgeable(cutoff, batch)
        for row in rows:
            await _delete_objects(deps, object_keys(row))
        await uow.assets.purge([r["media_id"] for r in rows])
    return len(rows)


async def set_quota(deps: Deps, identity: Identity, quota_bytes: int) -> dict[str, Any]:
    """An owner changes the brand's quota; below the current usage, it refuses new uploads only."""
    async with deps.sql_uow(identity.brand_id) as uow:
        await _quota_row(uow, deps, identity.brand_id)
        await uow.assets.set_quota(identity.brand_id, quota_bytes)
    return await quota_usage(deps, identity)


async def quota_usage(deps: Deps, identity: Identity) -> dict[str, Any]:
    async with deps.sql_uow(identity.brand_id) as uow:
        row = await uow.assets.quota_usage(identity.brand_id)
    if row is None:
        return {"quota_bytes": deps.settings.default_quota_bytes, "used_bytes": 0, "assets": 0}
    return dict(row)
