"""SQL of the dispatcher (service_layer/dispatcher.py says what it does and why so).

The statuses are the domain's enums, written into the statement once when the module loads
(the text stays constant, so asyncpg prepares it once per connection).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from aligned_common.units import Repository
from aligned_publishing.domain.status import JobStatus as J
from aligned_publishing.domain.status import TargetStatus as T

_DISPATCH = f"""
WITH due AS (
    SELECT t.ctid, t.job_id, j.tenant_id, coalesce(t.text_variant, j.content) AS text,
           coalesce(t.media_variant, j.media_ids) AS media_ids, t.alt_text_variant, t.platform_options
      FROM publishing_targets t JOIN publishing_jobs j ON j.job_id = t.job_id
     WHERE t.status IN ('{T.SCHEDULED}', '{T.PUBLISHING}') AND t.next_attempt_at <= $1
       -- The gate, once more at the last moment: approval needed means approved for exactly this content.
       AND (NOT j.approval_required OR j.approved_hash = j.content_hash)
     ORDER BY t.next_attempt_at
     LIMIT $2
       FOR UPDATE OF t, j SKIP LOCKED
), started AS (
    UPDATE publishing_jobs j SET status = '{J.PUBLISHING}', status_reason = NULL, updated_at = $1
      FROM (SELECT DISTINCT job_id FROM due) d
     WHERE j.job_id = d.job_id AND j.status = '{J.SCHEDULED}'
), claimed AS (
    UPDATE publishing_targets t
       SET attempts = t.attempts + (t.status = '{T.SCHEDULED}')::int,
           rechecks = CASE WHEN t.status = '{T.PUBLISHING}' THEN t.rechecks + 1 ELSE 0 END,
           status = '{T.PUBLISHING}', requested_at = $1, next_attempt_at = $3, updated_at = $1
      FROM due
     -- The rows locked above, fetched by TID: joining on ctid alone lets the planner hash the whole table.
     WHERE t.ctid = ANY (ARRAY(SELECT ctid FROM due)) AND t.ctid = due.ctid
    RETURNING t.target_id, t.job_id, t.brand_id, due.tenant_id, t.platform, t.connection_id, t.idempotency_key,
              t.attempts, t.rechecks, due.text, due.media_ids, due.alt_text_variant, due.platform_options,
              gen_random_uuid() AS event_id
), written AS (
    -- The envelope as JSON text, concatenated: what every event of the batch shares ($6) was
    -- serialised once in Python, per-row strings go through to_json (escaping), the rest are
    -- uuids and integers. Measured at half the time per row of nested json_build_object.
    INSERT INTO outbox (event_id, topic, key, event_type, payload, traceparent)
    SELECT c.event_id, $4::text, c.brand_id::text, $5::text, convert_to(
               '{{"id":"' || c.event_id || '",' || $6::text
            || ',"brand_id":"' || c.brand_id
            || '","tenant_id":"' || c.tenant_id
            || '","subject":"' || c.job_id
            || '","data":{{"job_id":"' || c.job_id
            || '","target_id":"' || c.target_id
            || '","platform":' || to_json(c.platform)
            || ',"connection_id":"' || c.connection_id
            || '","idempotency_key":' || to_json(c.idempotency_key)
            || ',"attempt":' || c.attempts
            || ',"text":' || to_json(c.text)
            || ',"recheck":' || c.rechecks
            -- Per-platform fields as the adapters read them: every value its text (true -> "true").
            || ',"platform_options":' || coalesce((
                   SELECT jsonb_object_agg(o.key, o.value #>> '{{}}') FROM jsonb_each(c.platform_options) o
               ), '{{}}'::jsonb)::text
            || ',"media":' || CASE WHEN cardinality(c.media_ids) = 0 THEN '[]' ELSE coalesce((
                   -- Each platform gets the variant fitted to it, if the original does not fit.
                   SELECT json_agg(json_build_object('media_id', m.media_id,
                                                     'url', coalesce(f.variant->>'url', m.url),
                                                     'mime_type', coalesce(f.variant->>'mime_type', m.mime_type),
                                                     'size_bytes', coalesce((f.variant->>'size_bytes')::bigint, m.size_bytes),
                                                     -- the account's own alt text, else the item's
                                                     'alt_text', coalesce(c.alt_text_variant ->> m.media_id::text,
                                                                          m.alt_text))
                                   ORDER BY u.ord)
                     FROM unnest(c.media_ids) WITH ORDINALITY AS u(media_id, ord)
                     JOIN media_assets m ON m.media_id = u.media_id
                     CROSS JOIN LATERAL (SELECT m.variants -> c.platform AS variant) f)::text, '[]') END
            || '}}}}', 'UTF8'),
           $7::text
      FROM claimed c
    RETURNING seq, event_id
)
SELECT count(*) AS requested,
       (SELECT array_agg(w.seq) FROM written w JOIN claimed c USING (event_id)
         WHERE cardinality(c.media_ids) > 0) AS with_media,
       json_agg(json_build_object('job_id', job_id, 'platform', platform, 'attempt', attempts, 'rechecks', rechecks))
           FILTER (WHERE rechecks > 0) AS rechecked,
       CASE WHEN count(*) > 0 THEN pg_notify($8::text, '') END AS relay_woken
  FROM claimed
"""


class SqlDispatch(Repository):
    async def claim_due(
        self,
        now: datetime,
        batch_size: int,
        recheck_at: datetime,
        topic: str,
        event_type: str,
        shared_fields: str,
        traceparent: str | None,
        channel: str,
    ) -> asyncpg.Record:
        """One statement: claim, advance, and write each claimed target's attempt_requested."""
        row = await self.conn.fetchrow(
            _DISPATCH, now, batch_size, recheck_at, topic, event_type, shared_fields, traceparent, channel
        )
        assert row is not None  # an aggregate query answers one row
        return row

    async def outbox_payloads(self, seqs: list[int]) -> list[asyncpg.Record]:
        return await self.conn.fetch("SELECT seq, payload FROM outbox WHERE seq = ANY($1::bigint[])", seqs)

    async def rewrite_payloads(self, updated: list[tuple[int, bytes]]) -> None:
        await self.conn.executemany("UPDATE outbox SET payload = $2 WHERE seq = $1", updated)

    async def explain(self, job_ids: list[Any], reasons: list[str], now: datetime) -> None:
        """Each job's status_reason says why it waits."""
        await self.conn.execute(
            """UPDATE publishing_jobs j SET status_reason = u.reason, updated_at = $3
                 FROM unnest($1::uuid[], $2::text[]) AS u(job_id, reason) WHERE j.job_id = u.job_id""",
            job_ids,
            reasons,
            now,
        )
