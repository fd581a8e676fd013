"""SQL of media: assets (rows; the bytes are in the object store), presigned uploads in
progress, each brand's quota and the assets' usage history."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TypeAlias

import asyncpg

from aligned_common.units import Repository

Record: TypeAlias = asyncpg.Record
# An asset's usage_count: the jobs it is attached to now (of the row aliased m).
USAGE_COUNT = "(SELECT count(*) FROM media_usage u WHERE u.media_id = m.media_id) AS usage_count"


class SqlAssets(Repository):
    async def ensure_quota(self, brand_id: uuid.UUID, default_bytes: int) -> None:
        """A brand's quota row, made with the default the first time."""
        await self.conn.execute(
            "INSERT INTO storage_quotas (brand_id, quota_bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            brand_id,
            default_bytes,
        )

    async def lock_quota(self, brand_id: uuid.UUID) -> Record | None:
        """The brand's quota, locked: serializes its uploads and deletes."""
        return await self.conn.fetchrow(
            "SELECT * FROM storage_quotas WHERE brand_id = $1 FOR UPDATE",
            brand_id,
        )

    async def live_by_sha(self, brand_id: uuid.UUID, sha256: str) -> Record | None:
        return await self.conn.fetchrow(
            "SELECT * FROM media_assets WHERE brand_id = $1 AND sha256 = $2 AND deleted_at IS NULL",
            brand_id,
            sha256,
        )

    async def quota(self, brand_id: uuid.UUID) -> Record | None:
        return await self.conn.fetchrow(
            "SELECT * FROM storage_quotas WHERE brand_id = $1",
            brand_id,
        )

    async def lock_by_sha(self, brand_id: uuid.UUID, sha256: str) -> Record | None:
        """The brand's asset of these bytes, deleted or not, locked."""
        return await self.conn.fetchrow(
            "SELECT * FROM media_assets WHERE brand_id = $1 AND sha256 = $2 FOR UPDATE",
            brand_id,
            sha256,
        )

    async def revive(
        self,
        media_id: uuid.UUID,
        original_name: str | None,
        uploaded_by: str,
        created_at: datetime,
        storage_key: str,
        url: str,
        thumbnail_key: str | None,
        alt_text: str,
        variants: str,
        video_codec: str | None,
    ) -> Record | None:
        """A deleted asset not yet purged is live again, on the new objects."""
        return await self.conn.fetchrow(
            """UPDATE media_assets SET deleted_at = NULL, original_name = $2, uploaded_by = $3, created_at = $4,
                                              storage_key = $5, url = $6, thumbnail_key = $7, alt_text = $8,
                                              variants = $9, video_codec = $10
                        WHERE media_id = $1 RETURNING *""",
            media_id,
            original_name,
            uploaded_by,
            created_at,
            storage_key,
            url,
            thumbnail_key,
            alt_text,
            variants,
            video_codec,
        )

    async def insert(
        self,
        media_id: uuid.UUID,
        brand_id: uuid.UUID,
        sha256: str,
        mime_type: str | None,
        size_bytes: int,
        duration_s: float | None,
        storage_key: str,
        url: str,
        original_name: str | None,
        uploaded_by: str,
        created_at: datetime,
        thumbnail_key: str | None,
        alt_text: str,
        variants: str,
        video_codec: str | None,
    ) -> Record | None:
        return await self.conn.fetchrow(
            """INSERT INTO media_assets (media_id, brand_id, sha256, mime_type, size_bytes, duration_s,
                                                 storage_key, url, original_name, uploaded_by, created_at,
                                                 thumbnail_key, alt_text, variants, video_codec)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING *""",
            media_id,
            brand_id,
            sha256,
            mime_type,
            size_bytes,
            duration_s,
            storage_key,
            url,
            original_name,
            uploaded_by,
            created_at,
            thumbnail_key,
            alt_text,
            variants,
            video_codec,
        )

    async def add_usage(self, brand_id: uuid.UUID, size_bytes: int) -> None:
        """The brand's used bytes grow by an asset's size."""
        await self.conn.execute(
            "UPDATE storage_quotas SET used_bytes = used_bytes + $2 WHERE brand_id = $1",
            brand_id,
            size_bytes,
        )

    async def start_upload(
        self,
        upload_id: uuid.UUID,
        brand_id: uuid.UUID,
        staging_key: str,
        filename: str | None,
        mime_type: str,
        size_bytes: int,
        sha256: str | None,
        alt_text: str,
        uploaded_by: str,
        created_at: datetime,
        expires_at: datetime,
        multipart_id: str | None,
        part_size: int | None,
    ) -> None:
        await self.conn.execute(
            """INSERT INTO media_uploads (upload_id, brand_id, staging_key, filename, mime_type, size_bytes, sha256,
                                              alt_text, uploaded_by, created_at, expires_at, multipart_id, part_size)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
            upload_id,
            brand_id,
            staging_key,
            filename,
            mime_type,
            size_bytes,
            sha256,
            alt_text,
            uploaded_by,
            created_at,
            expires_at,
            multipart_id,
            part_size,
        )

    async def upload(self, upload_id: uuid.UUID, brand_id: uuid.UUID) -> Record | None:
        return await self.conn.fetchrow(
            "SELECT * FROM media_uploads WHERE upload_id = $1 AND brand_id = $2",
            upload_id,
            brand_id,
        )

    async def forget_upload(self, upload_id: uuid.UUID) -> None:
        await self.conn.execute(
            "DELETE FROM media_uploads WHERE upload_id = $1",
            upload_id,
        )

    async def lock_expired_uploads(self, now: datetime, batch: int) -> list[Record]:
        return await self.conn.fetch(
            """SELECT upload_id, staging_key, multipart_id FROM media_uploads WHERE expires_at <= $1
                ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED""",
            now,
            batch,
        )

    async def forget_uploads(self, upload_ids: list[uuid.UUID]) -> None:
        await self.conn.execute(
            "DELETE FROM media_uploads WHERE upload_id = ANY($1)",
            upload_ids,
        )

    async def page(self, brand_id: uuid.UUID, before: uuid.UUID | None, limit: int) -> list[Record]:
        """The brand's live assets, newest first, after `before`, with their usage counts."""
        return await self.conn.fetch(
            f"""SELECT *, {USAGE_COUNT} FROM media_assets m WHERE brand_id = $1 AND deleted_at IS NULL
                 AND ($2::uuid IS NULL OR (created_at, media_id) <
                      (SELECT created_at, media_id FROM media_assets WHERE media_id = $2))
               ORDER BY created_at DESC, media_id DESC LIMIT $3""",
            brand_id,
            before,
            limit,
        )

    async def live(self, media_id: uuid.UUID, brand_id: uuid.UUID) -> Record | None:
        """A live asset with its usage count."""
        return await self.conn.fetchrow(
            f"SELECT *, {USAGE_COUNT} FROM media_assets m WHERE media_id = $1 AND brand_id = $2 AND deleted_at IS NULL",
            media_id,
            brand_id,
        )

    async def usage_log(self, media_id: uuid.UUID, brand_id: uuid.UUID) -> list[Record]:
        return await self.conn.fetch(
            "SELECT job_id, action, at FROM media_usage_logs WHERE media_id = $1 AND brand_id = $2 ORDER BY at DESC, id DESC",
            media_id,
            brand_id,
        )

    async def describe(self, media_id: uuid.UUID, brand_id: uuid.UUID, alt_text: str) -> Record | None:
        return await self.conn.fetchrow(
            """UPDATE media_assets SET alt_text = $3 WHERE media_id = $1 AND brand_id = $2 AND deleted_at IS NULL
               RETURNING *""",
            media_id,
            brand_id,
            alt_text,
        )

    async def lock_live(self, media_id: uuid.UUID, brand_id: uuid.UUID) -> Record | None:
        return await self.conn.fetchrow(
            "SELECT * FROM media_assets WHERE media_id = $1 AND brand_id = $2 AND deleted_at IS NULL FOR UPDATE",
            media_id,
            brand_id,
        )

    async def unsent_jobs_using(self, media_id: uuid.UUID, finished: list[str]) -> list[Record]:
        """The jobs using the asset that have not gone out (and are not deleted)."""
        return await self.conn.fetch(
            """SELECT j.job_id FROM media_usage u JOIN publishing_jobs j USING (job_id)
                WHERE u.media_id = $1 AND j.deleted_at IS NULL AND NOT (j.status = ANY($2))""",
            media_id,
            finished,
        )

    async def mark_deleted(self, media_id: uuid.UUID, at: datetime) -> None:
        await self.conn.execute(
            "UPDATE media_assets SET deleted_at = $2 WHERE media_id = $1",
            media_id,
            at,
        )

    async def free_usage(self, brand_id: uuid.UUID, size_bytes: int) -> None:
        """The brand's used bytes shrink by an asset's size."""
        await self.conn.execute(
            "UPDATE storage_quotas SET used_bytes = used_bytes - $2 WHERE brand_id = $1",
            brand_id,
            size_bytes,
        )

    async def lock_purgeable(self, cutoff: datetime, batch: int) -> list[Record]:
        return await self.conn.fetch(
            """SELECT media_id, storage_key, thumbnail_key, variants FROM media_assets WHERE deleted_at <= $1
                ORDER BY deleted_at LIMIT $2 FOR UPDATE SKIP LOCKED""",
            cutoff,
            batch,
        )

    async def purge(self, media_ids: list[uuid.UUID]) -> None:
        await self.conn.execute(
            "DELETE FROM media_assets WHERE media_id = ANY($1)",
            media_ids,
        )

    async def set_quota(self, brand_id: uuid.UUID, quota_bytes: int) -> None:
        await self.conn.execute(
            "UPDATE storage_quotas SET quota_bytes = $2 WHERE brand_id = $1",
            brand_id,
            quota_bytes,
        )

    async def quota_usage(self, brand_id: uuid.UUID) -> Record | None:
        return await self.conn.fetchrow(
            """SELECT q.quota_bytes, q.used_bytes,
                      (SELECT count(*) FROM media_assets WHERE brand_id = $1 AND deleted_at IS NULL) AS assets
                 FROM storage_quotas q WHERE q.brand_id = $1""",
            brand_id,
        )
