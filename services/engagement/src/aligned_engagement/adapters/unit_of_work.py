"""The only place with SQL: the ports of service_layer/ports.py on asyncpg, bound to the
transaction of aligned_common.db (row-level security for its brand, an outbox for its events)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import asyncpg

from aligned_common.units import BoundUnitOfWork, Repository
from aligned_engagement.domain.model import Item
from aligned_engagement.domain.replies import Reply, ReplyStatus
from aligned_engagement.domain.templates import Template
from aligned_engagement.service_layer.ports import InboxFilter, KnownConnection

_ITEM_COLUMNS = """id, brand_id, tenant_id, connection_id, platform, kind, platform_item_id, remote_post_id,
    parent_id, author_id, author_name, body, rating, language, url, created_at, edited_at, deleted,
    received_at, sources, state, assignee_id, first_response_at, sla_breached_at"""


def _item(row: asyncpg.Record) -> Item:
    return Item(
        id=row["id"],
        brand_id=row["brand_id"],
        tenant_id=row["tenant_id"],
        connection_id=row["connection_id"],
        platform=row["platform"],
        kind=row["kind"],
        platform_item_id=row["platform_item_id"],
        remote_post_id=row["remote_post_id"],
        parent_id=row["parent_id"],
        author_id=row["author_id"],
        author_name=row["author_name"],
        text=row["body"],
        rating=row["rating"],
        language=row["language"],
        url=row["url"],
        created_at=row["created_at"],
        edited_at=row["edited_at"],
        deleted=row["deleted"],
        received_at=row["received_at"],
        sources=tuple(row["sources"]),
        state=row["state"],
        assignee_id=row["assignee_id"],
        first_response_at=row["first_response_at"],
        sla_breached_at=row["sla_breached_at"],
    )


class SqlItems(Repository):
    async def add(self, item: Item) -> bool:
        added = await self.conn.fetchval(
            f"""INSERT INTO platform_events ({_ITEM_COLUMNS})
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                        $18, $19, $20, $21, $22, $23, $24)
                ON CONFLICT (connection_id, platform_item_id) DO NOTHING RETURNING true""",
            item.id,
            item.brand_id,
            item.tenant_id,
            item.connection_id,
            item.platform,
            item.kind,
            item.platform_item_id,
            item.remote_post_id,
            item.parent_id,
            item.author_id,
            item.author_name,
            item.text,
            item.rating,
            item.language,
            item.url,
            item.created_at,
            item.edited_at,
            item.deleted,
            item.received_at,
            list(item.sources),
            item.state,
            item.assignee_id,
            item.first_response_at,
            item.sla_breached_at,
        )
        return bool(added)

    async def get(self, item_id: uuid.UUID, *, lock: bool = False) -> Item | None:
        row = await self.conn.fetchrow(
            f"SELECT {_ITEM_COLUMNS} FROM platform_events WHERE id = $1" + (" FOR UPDATE" if lock else ""),
            item_id,
        )
        return None if row is None else _item(row)

    async def find(
        self, connection_id: uuid.UUID, platform_item_id: str, *, lock: bool = False
    ) -> Item | None:
        row = await self.conn.fetchrow(
            f"SELECT {_ITEM_COLUMNS} FROM platform_events WHERE connection_id = $1 AND platform_item_id = $2"
            + (" FOR UPDATE" if lock else ""),
            connection_id,
            platform_item_id,
        )
        return None if row is None else _item(row)

    async def save_content(self, item: Item, source: str) -> None:
        await self.conn.execute(
            """UPDATE platform_events SET body = $2, edited_at = $3, deleted = $4, rating = $5,
                   sources = CASE WHEN $6 = ANY(sources) THEN sources ELSE sources || $6 END
               WHERE id = $1""",
            item.id,
            item.text,
            item.edited_at,
            item.deleted,
            item.rating,
            source,
        )

    async def add_source(self, item_id: uuid.UUID, source: str) -> None:
        await self.conn.execute(
            "UPDATE platform_events SET sources = sources || $2 WHERE id = $1 AND NOT ($2 = ANY(sources))",
            item_id,
            source,
        )

    async def save_state(self, item: Item) -> None:
        await self.conn.execute(
            """UPDATE platform_events SET state = $2, assignee_id = $3, first_response_at = $4
               WHERE id = $1""",
            item.id,
            item.state,
            item.assignee_id,
            item.first_response_at,
        )
        await self.conn.executemany(
            """INSERT INTO conversation_history (brand_id, item_id, from_state, to_state, assignee_id, actor, at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            [
                (item.brand_id, item.id, c.from_state, c.to_state, c.assignee_id, c.actor, c.at)
                for c in item.changes
            ],
        )

    async def history(self, item_id: uuid.UUID) -> list[dict[str, object]]:
        rows = await self.conn.fetch(
            """SELECT from_state, to_state, assignee_id, actor, at FROM conversation_history
               WHERE item_id = $1 ORDER BY id""",
            item_id,
        )
        return [dict(row) for row in rows]

    async def page(
        self, where: InboxFilter, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[Item]:
        rows = await self.conn.fetch(
            f"""SELECT {_ITEM_COLUMNS} FROM platform_events
                WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR kind = $2)
                  AND ($3::uuid IS NULL OR connection_id = $3) AND ($4::text IS NULL OR assignee_id = $4)
                  AND ($5::text IS NULL OR body ILIKE '%' || $5 || '%' OR author_name ILIKE '%' || $5 || '%')
                  AND ($6::timestamptz IS NULL OR (received_at, id) < ($6, $7::uuid))
                ORDER BY received_at DESC, id DESC LIMIT $8""",
            where.state,
            where.kind,
            where.connection_id,
            where.assignee_id,
            _like_escaped(where.text),
            after[0] if after else None,
            after[1] if after else None,
            limit,
        )
        return [_item(row) for row in rows]

    async def counts(self) -> dict[str, int]:
        rows = await self.conn.fetch("SELECT state, count(*) AS n FROM platform_events GROUP BY state")
        return {row["state"]: row["n"] for row in rows}

    async def claim_sla_breaches(self, now: datetime, hour_s: float, limit: int) -> list[tuple[Item, float]]:
        rows = await self.conn.fetch(
            f"""WITH due AS (
                    SELECT e.id, s.first_response_hours FROM platform_events e
                    JOIN sla_settings s ON s.brand_id = e.brand_id
                    WHERE e.first_response_at IS NULL AND e.sla_breached_at IS NULL
                      AND e.state IN ('open', 'assigned') AND NOT e.deleted
                      AND e.received_at + make_interval(secs => s.first_response_hours * $2) <= $1
                    ORDER BY e.received_at LIMIT $3 FOR UPDATE OF e SKIP LOCKED)
                UPDATE platform_events p SET sla_breached_at = $1 FROM due WHERE p.id = due.id
                RETURNING {", ".join("p." + c.strip() for c in _ITEM_COLUMNS.split(","))},
                          due.first_response_hours""",
            now,
            hour_s,
            limit,
        )
        return [(_item(row), float(row["first_response_hours"])) for row in rows]


def _like_escaped(text: str | None) -> str | None:
    if not text:
        return None
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlReviews(Repository):
    async def upsert(self, item: Item) -> None:
        await self.conn.execute(
            """INSERT INTO platform_reviews (item_id, brand_id, rating, reviewer_name, body)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (item_id) DO UPDATE SET rating = excluded.rating, body = excluded.body""",
            item.id,
            item.brand_id,
            item.rating,
            item.author_name,
            item.text,
        )

    async def set_reply_state(self, item_id: uuid.UUID, state: str, at: datetime | None) -> None:
        await self.conn.execute(
            "UPDATE platform_reviews SET reply_state = $2, replied_at = coalesce($3, replied_at) WHERE item_id = $1",
            item_id,
            state,
            at,
        )


def _template(row: asyncpg.Record) -> Template:
    return Template(
        row["id"], row["brand_id"], row["name"], row["body"], json.loads(row["variants"]), row["updated_at"]
    )


class SqlTemplates(Repository):
    async def list(self) -> list[Template]:
        rows = await self.conn.fetch(
            "SELECT id, brand_id, name, body, variants, updated_at FROM review_response_templates ORDER BY name"
        )
        return [_template(row) for row in rows]

    async def get(self, template_id: uuid.UUID) -> Template | None:
        row = await self.conn.fetchrow(
            "SELECT id, brand_id, name, body, variants, updated_at FROM review_response_templates WHERE id = $1",
            template_id,
        )
        return None if row is None else _template(row)

    async def add(self, template: Template) -> bool:
        return bool(
            await self.conn.fetchval(
                """INSERT INTO review_response_templates (id, brand_id, name, body, variants, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (brand_id, name) DO NOTHING RETURNING true""",
                template.id,
                template.brand_id,
                template.name,
                template.body,
                json.dumps(template.variants),
                template.updated_at,
            )
        )

    async def replace(self, template: Template) -> bool:
        try:
            async with (
                self.conn.transaction()
            ):  # a savepoint: a taken name leaves the caller's transaction usable
                await self.conn.execute(
                    """UPDATE review_response_templates SET name = $2, body = $3, variants = $4, updated_at = $5
                       WHERE id = $1""",
                    template.id,
                    template.name,
                    template.body,
                    json.dumps(template.variants),
                    template.updated_at,
                )
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def delete(self, template_id: uuid.UUID) -> bool:
        return (
            await self.conn.execute("DELETE FROM review_response_templates WHERE id = $1", template_id)
        ) != "DELETE 0"


def _reply(row: asyncpg.Record) -> Reply:
    return Reply(
        id=row["id"],
        brand_id=row["brand_id"],
        item_id=row["item_id"],
        text=row["body"],
        template_id=row["template_id"],
        idempotency_key=row["idempotency_key"],
        status=row["status"],
        remote_id=row["remote_id"],
        error=row["error"],
        requested_by=row["requested_by"],
        created_at=row["created_at"],
        settled_at=row["settled_at"],
    )


_REPLY_COLUMNS = (
    "id, brand_id, item_id, body, template_id, idempotency_key, status, remote_id, error, requested_by,"
    " created_at, settled_at"
)


class SqlReplies(Repository):
    async def add(self, reply: Reply) -> Reply:
        # One statement: of two requests with one key at once, one inserts, the other reads it.
        row = await self.conn.fetchrow(
            f"""WITH added AS (
                    INSERT INTO replies (id, brand_id, item_id, body, template_id, idempotency_key, status,
                                         requested_by, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)
                    ON CONFLICT (brand_id, idempotency_key) DO NOTHING RETURNING {_REPLY_COLUMNS})
                SELECT {_REPLY_COLUMNS} FROM added
                UNION ALL
                SELECT {_REPLY_COLUMNS} FROM replies WHERE brand_id = $2 AND idempotency_key = $6
                LIMIT 1""",
            reply.id,
            reply.brand_id,
            reply.item_id,
            reply.text,
            reply.template_id,
            reply.idempotency_key,
            reply.requested_by,
            reply.created_at,
        )
        if row is None:  # the other request has not committed: its row is not visible yet
            row = await self.conn.fetchrow(
                f"SELECT {_REPLY_COLUMNS} FROM replies WHERE brand_id = $1 AND idempotency_key = $2",
                reply.brand_id,
                reply.idempotency_key,
            )
        assert row is not None
        return _reply(row)

    async def get(self, reply_id: uuid.UUID, *, lock: bool = False) -> Reply | None:
        row = await self.conn.fetchrow(
            f"SELECT {_REPLY_COLUMNS} FROM replies WHERE id = $1" + (" FOR UPDATE" if lock else ""), reply_id
        )
        return None if row is None else _reply(row)

    async def of_item(self, item_id: uuid.UUID) -> list[Reply]:
        rows = await self.conn.fetch(
            f"SELECT {_REPLY_COLUMNS} FROM replies WHERE item_id = $1 ORDER BY created_at", item_id
        )
        return [_reply(row) for row in rows]

    async def settle(
        self, reply_id: uuid.UUID, status: ReplyStatus, remote_id: str | None, error: str | None, at: datetime
    ) -> None:
        await self.conn.execute(
            "UPDATE replies SET status = $2, remote_id = $3, error = $4, settled_at = $5 WHERE id = $1",
            reply_id,
            status,
            remote_id,
            error,
            at,
        )


def _connection(row: asyncpg.Record | None) -> KnownConnection | None:
    if row is None:
        return None
    return KnownConnection(
        row["connection_id"], row["brand_id"], row["platform"], row["account_id"], row["status"]
    )


class SqlConnections(Repository):
    async def upsert(self, connection: KnownConnection) -> None:
        await self.conn.execute(
            """INSERT INTO known_connections (connection_id, brand_id, platform, account_id, status)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (connection_id) DO UPDATE SET status = excluded.status,
                   account_id = coalesce(excluded.account_id, known_connections.account_id), updated_at = now()""",
            connection.connection_id,
            connection.brand_id,
            connection.platform,
            connection.account_id,
            connection.status,
        )

    async def get(self, connection_id: uuid.UUID) -> KnownConnection | None:
        return _connection(
            await self.conn.fetchrow(
                "SELECT connection_id, brand_id, platform, account_id, status FROM known_connections"
                " WHERE connection_id = $1",
                connection_id,
            )
        )

    async def of_account(self, platform: str, account_id: str) -> KnownConnection | None:
        # The brand's (RLS) connection of that account; a reconnected account's newest row wins.
        return _connection(
            await self.conn.fetchrow(
                """SELECT connection_id, brand_id, platform, account_id, status FROM known_connections
                   WHERE platform = $1 AND account_id = $2 ORDER BY status = 'connected' DESC, updated_at DESC
                   LIMIT 1""",
                platform,
                account_id,
            )
        )


class SqlBrands(Repository):
    async def name_of(self, brand_id: uuid.UUID) -> str | None:
        name: str | None = await self.conn.fetchval("SELECT name FROM brands WHERE brand_id = $1", brand_id)
        return name

    async def save(self, brand_id: uuid.UUID, name: str) -> None:
        await self.conn.execute(
            """INSERT INTO brands (brand_id, name) VALUES ($1, $2)
               ON CONFLICT (brand_id) DO UPDATE SET name = excluded.name""",
            brand_id,
            name,
        )


class SqlSlas(Repository):
    async def get(self, brand_id: uuid.UUID) -> float | None:
        hours: Any = await self.conn.fetchval(
            "SELECT first_response_hours FROM sla_settings WHERE brand_id = $1", brand_id
        )
        return None if hours is None else float(hours)

    async def put(self, brand_id: uuid.UUID, hours: float | None, at: datetime) -> None:
        if hours is None:
            await self.conn.execute("DELETE FROM sla_settings WHERE brand_id = $1", brand_id)
            return
        await self.conn.execute(
            """INSERT INTO sla_settings (brand_id, first_response_hours, updated_at) VALUES ($1, $2, $3)
               ON CONFLICT (brand_id) DO UPDATE SET first_response_hours = excluded.first_response_hours,
                   updated_at = excluded.updated_at""",
            brand_id,
            hours,
            at,
        )


class SqlUnitOfWork(BoundUnitOfWork):
    def bind(self, conn: asyncpg.Connection) -> None:
        self.items = SqlItems(conn)
        self.reviews = SqlReviews(conn)
        self.templates = SqlTemplates(conn)
        self.replies = SqlReplies(conn)
        self.connections = SqlConnections(conn)
        self.brands = SqlBrands(conn)
        self.slas = SqlSlas(conn)
