"""The ports the handlers use: small protocols, the SQL ones in adapters/, fakes in tests/unit."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from aligned_common.events.engagement import ConversationState, ItemKind
from aligned_common.units import Opener, Transaction
from aligned_engagement.domain.model import Item
from aligned_engagement.domain.replies import Reply, ReplyStatus
from aligned_engagement.domain.templates import Template


@dataclass(frozen=True)
class KnownConnection:
    connection_id: uuid.UUID
    brand_id: uuid.UUID
    platform: str
    account_id: str | None
    status: str


@dataclass(frozen=True)
class InboxFilter:
    state: ConversationState | None = None
    kind: ItemKind | None = None
    connection_id: uuid.UUID | None = None
    assignee_id: str | None = None
    text: str | None = None  # a plain substring of the item's text or author


class Items(Protocol):
    async def add(self, item: Item) -> bool:
        """False when (connection, platform id) is there already: someone else stored it first."""
        ...

    async def get(self, item_id: uuid.UUID, *, lock: bool = False) -> Item | None: ...

    async def find(
        self, connection_id: uuid.UUID, platform_item_id: str, *, lock: bool = False
    ) -> Item | None: ...

    async def save_content(self, item: Item, source: str) -> None:
        """Text, edit time and deletion as the platform said them; `source` joins the paths seen."""
        ...

    async def add_source(self, item_id: uuid.UUID, source: str) -> None: ...

    async def save_state(self, item: Item) -> None:
        """State, assignee, first response and the item's new `changes` in the history."""
        ...

    async def history(self, item_id: uuid.UUID) -> list[dict[str, object]]: ...

    async def page(
        self, where: InboxFilter, after: tuple[datetime, uuid.UUID] | None, limit: int
    ) -> list[Item]: ...

    async def counts(self) -> dict[str, int]: ...

    async def claim_sla_breaches(self, now: datetime, hour_s: float, limit: int) -> list[tuple[Item, float]]:
        """Marks every brand's items unanswered past its SLA as breached, returning each once."""
        ...


class Reviews(Protocol):
    async def upsert(self, item: Item) -> None: ...

    async def set_reply_state(self, item_id: uuid.UUID, state: str, at: datetime | None) -> None: ...


class Templates(Protocol):
    async def list(self) -> list[Template]: ...

    async def get(self, template_id: uuid.UUID) -> Template | None: ...

    async def add(self, template: Template) -> bool: ...  # False: the name is taken

    async def replace(self, template: Template) -> bool: ...  # False: the name is taken

    async def delete(self, template_id: uuid.UUID) -> bool: ...


class Replies(Protocol):
    async def add(self, reply: Reply) -> Reply:
        """The reply stored, or the one stored before with its idempotency key."""
        ...

    async def get(self, reply_id: uuid.UUID, *, lock: bool = False) -> Reply | None: ...

    async def of_item(self, item_id: uuid.UUID) -> list[Reply]: ...

    async def settle(
        self, reply_id: uuid.UUID, status: ReplyStatus, remote_id: str | None, error: str | None, at: datetime
    ) -> None: ...


class Connections(Protocol):
    async def upsert(self, connection: KnownConnection) -> None: ...

    async def get(self, connection_id: uuid.UUID) -> KnownConnection | None: ...

    async def of_account(self, platform: str, account_id: str) -> KnownConnection | None: ...


class Brands(Protocol):
    async def name_of(self, brand_id: uuid.UUID) -> str | None: ...

    async def save(self, brand_id: uuid.UUID, name: str) -> None: ...


class Slas(Protocol):
    async def get(self, brand_id: uuid.UUID) -> float | None: ...

    async def put(self, brand_id: uuid.UUID, hours: float | None, at: datetime) -> None: ...


class UnitOfWork(Transaction, Protocol):
    """One transaction of one brand (`emit`, `async with`) and the repositories on it."""

    @property
    def items(self) -> Items: ...

    @property
    def reviews(self) -> Reviews: ...

    @property
    def templates(self) -> Templates: ...

    @property
    def replies(self) -> Replies: ...

    @property
    def connections(self) -> Connections: ...

    @property
    def brands(self) -> Brands: ...

    @property
    def slas(self) -> Slas: ...


Units = Opener[UnitOfWork]  # `async with deps.uow(brand_id) as uow:` (role="worker" spans brands)
