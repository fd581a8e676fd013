"""In-memory fakes of service_layer/ports.py: the unit of work commits or rolls back its store."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from aligned_engagement.domain.model import Item
from aligned_engagement.domain.replies import Reply, ReplyStatus
from aligned_engagement.domain.templates import Template
from aligned_engagement.service_layer.ports import InboxFilter, KnownConnection
from aligned_testing.fakes import FakeTables, FakeTransaction


@dataclass
class FakeStore(FakeTables):
    items: dict[uuid.UUID, Item] = field(default_factory=dict)
    history: list[tuple[uuid.UUID, dict[str, object]]] = field(default_factory=list)
    reviews: dict[uuid.UUID, dict[str, object]] = field(default_factory=dict)
    templates: dict[uuid.UUID, Template] = field(default_factory=dict)
    replies: dict[uuid.UUID, Reply] = field(default_factory=dict)
    connections: dict[uuid.UUID, KnownConnection] = field(default_factory=dict)
    brands: dict[uuid.UUID, str] = field(default_factory=dict)
    slas: dict[uuid.UUID, float] = field(default_factory=dict)


class FakeItems:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add(self, item: Item) -> bool:
        if any(
            i.connection_id == item.connection_id and i.platform_item_id == item.platform_item_id
            for i in self.store.items.values()
        ):
            return False
        self.store.items[item.id] = item
        return True

    async def get(self, item_id: uuid.UUID, *, lock: bool = False) -> Item | None:
        item = self.store.items.get(item_id)
        return None if item is None else replace(item, changes=[])

    async def find(
        self, connection_id: uuid.UUID, platform_item_id: str, *, lock: bool = False
    ) -> Item | None:
        for item in self.store.items.values():
            if item.connection_id == connection_id and item.platform_item_id == platform_item_id:
                return replace(item, changes=[])
        return None

    async def save_content(self, item: Item, source: str) -> None:
        stored = self.store.items[item.id]
        sources = stored.sources if source in stored.sources else (*stored.sources, source)
        self.store.items[item.id] = replace(
            stored,
            text=item.text,
            edited_at=item.edited_at,
            deleted=item.deleted,
            rating=item.rating,
            sources=sources,
        )

    async def add_source(self, item_id: uuid.UUID, source: str) -> None:
        stored = self.store.items[item_id]
        if source not in stored.sources:
            self.store.items[item_id] = replace(stored, sources=(*stored.sources, source))

    async def save_state(self, item: Item) -> None:
        stored = self.store.items[item.id]
        self.store.items[item.id] = replace(
            stored, state=item.state, assignee_id=item.assignee_id, first_response_at=item.first_response_at
        )
        self.store.history.extend(
            (
                item.id,
                {
                    "from_state": c.from_state,
                    "to_state": c.to_state,
                    "assignee_id": c.assignee_id,
                    "actor": c.actor,
                    "at": c.at,
                },
            )
            for c in item.changes
        )

    async def history(self, item_id: uuid.UUID) -> list[dict[str, object]]:
        return [h for i, h in self.store.history if i == item_id]

    async def page(
        self, where: InboxFilter, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[Item]:
        rows = sorted(self.store.items.values(), key=lambda i: (i.received_at, i.id), reverse=True)
        rows = [
            i
            for i in rows
            if (where.state is None or i.state == where.state)
            and (where.kind is None or i.kind == where.kind)
            and (where.connection_id is None or i.connection_id == where.connection_id)
            and (where.assignee_id is None or i.assignee_id == where.assignee_id)
            and (not where.text or where.text.lower() in (i.text + " " + i.author_name).lower())
            and (after is None or (i.received_at, i.id) < after)
        ]
        return rows[:limit]

    async def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for item in self.store.items.values():
            found[item.state] = found.get(item.state, 0) + 1
        return found

    async def claim_sla_breaches(self, now: datetime, hour_s: float, limit: int) -> list[tuple[Item, float]]:
        claimed = []
        for item in list(self.store.items.values()):
            hours = self.store.slas.get(item.brand_id)
            if (
                hours is not None
                and not item.deleted
                and item.sla_due(hours, now, hour_s)
                and len(claimed) < limit
            ):
                self.store.items[item.id] = replace(item, sla_breached_at=now)
                claimed.append((item, hours))
        return claimed


class FakeReviews:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def upsert(self, item: Item) -> None:
        row = self.store.reviews.setdefault(item.id, {"reply_state": "unanswered", "replied_at": None})
        row.update(rating=item.rating, reviewer_name=item.author_name, body=item.text)

    async def set_reply_state(self, item_id: uuid.UUID, state: str, at: datetime | None) -> None:
        row = self.store.reviews[item_id]
        row["reply_state"] = state
        row["replied_at"] = at or row["replied_at"]


class FakeTemplates:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def list(self) -> list[Template]:
        return sorted(self.store.templates.values(), key=lambda t: t.name)

    async def get(self, template_id: uuid.UUID) -> Template | None:
        return self.store.templates.get(template_id)

    async def add(self, template: Template) -> bool:
        if any(t.name == template.name for t in self.store.templates.values()):
            return False
        self.store.templates[template.id] = template
        return True

    async def replace(self, template: Template) -> bool:
        if any(t.name == template.name and t.id != template.id for t in self.store.templates.values()):
            return False
        self.store.templates[template.id] = template
        return True

    async def delete(self, template_id: uuid.UUID) -> bool:
        return self.store.templates.pop(template_id, None) is not None


class FakeReplies:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def add(self, reply: Reply) -> Reply:
        for stored in self.store.replies.values():
            if stored.brand_id == reply.brand_id and stored.idempotency_key == reply.idempotency_key:
                return stored
        self.store.replies[reply.id] = reply
        return reply

    async def get(self, reply_id: uuid.UUID, *, lock: bool = False) -> Reply | None:
        return self.store.replies.get(reply_id)

    async def of_item(self, item_id: uuid.UUID) -> list[Reply]:
        return [r for r in self.store.replies.values() if r.item_id == item_id]

    async def settle(
        self, reply_id: uuid.UUID, status: ReplyStatus, remote_id: str | None, error: str | None, at: datetime
    ) -> None:
        self.store.replies[reply_id] = replace(
            self.store.replies[reply_id], status=status, remote_id=remote_id, error=error, settled_at=at
        )


class FakeConnections:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def upsert(self, connection: KnownConnection) -> None:
        old = self.store.connections.get(connection.connection_id)
        account = connection.account_id or (old.account_id if old else None)
        self.store.connections[connection.connection_id] = replace(connection, account_id=account)

    async def get(self, connection_id: uuid.UUID) -> KnownConnection | None:
        return self.store.connections.get(connection_id)

    async def of_account(self, platform: str, account_id: str) -> KnownConnection | None:
        for c in self.store.connections.values():
            if c.platform == platform and c.account_id == account_id:
                return c
        return None


class FakeBrands:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def name_of(self, brand_id: uuid.UUID) -> str | None:
        return self.store.brands.get(brand_id)

    async def save(self, brand_id: uuid.UUID, name: str) -> None:
        self.store.brands[brand_id] = name


class FakeSlas:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def get(self, brand_id: uuid.UUID) -> float | None:
        return self.store.slas.get(brand_id)

    async def put(self, brand_id: uuid.UUID, hours: float | None, at: datetime) -> None:
        if hours is None:
            self.store.slas.pop(brand_id, None)
        else:
            self.store.slas[brand_id] = hours


class FakeUnitOfWork(FakeTransaction):
    def __init__(self, store: FakeStore | None = None) -> None:
        store = store or FakeStore()
        super().__init__(store)
        self.store: FakeStore = store
        self.items = FakeItems(store)
        self.reviews = FakeReviews(store)
        self.templates = FakeTemplates(store)
        self.replies = FakeReplies(store)
        self.connections = FakeConnections(store)
        self.brands = FakeBrands(store)
        self.slas = FakeSlas(store)


class FakeUnits:
    """Opens a fresh unit of work on one shared store, as Opens does on one database."""

    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()

    def __call__(self, brand_id: uuid.UUID | None = None, *, role: str = "app") -> FakeUnitOfWork:
        return FakeUnitOfWork(self.store)
