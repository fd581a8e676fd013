"""In-memory fakes of the approval service's ports (service_layer/unit_of_work.py).

One `FakeStore` holds every table as Python lists; each `FakeUnitOfWork` works on it and, like a
transaction, either commits (its events become `store.events`) or rolls every change back. The
fakes keep the rules the SQL keeps (a round opens once per job and round; a decision only
locks a pending round; an escalation level is claimed once; a dedupe key queues one mail), so
the handlers' own rules are what the unit tests exercise.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aligned_approval.domain.audit import AuditEntry
from aligned_approval.domain.escalation import RuleIn
from aligned_approval.domain.policy import Mode, Policy
from aligned_common.db import Role
from aligned_common.envelope import EventEnvelope
from aligned_testing.fakes import FakeTables, FakeTransaction

Row = dict[str, Any]


@dataclass
class FakeStore(FakeTables):
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    rounds: list[Row] = field(default_factory=list)
    reviewers: list[Row] = field(default_factory=list)
    brands: dict[uuid.UUID, Row] = field(default_factory=dict)
    policies: list[Row] = field(default_factory=list)
    rules: list[Row] = field(default_factory=list)
    fired: list[Row] = field(default_factory=list)  # escalation_events
    history: list[Row] = field(default_factory=list)  # escalation_history
    notifications: list[Row] = field(default_factory=list)
    clients: list[Row] = field(default_factory=list)
    links: list[Row] = field(default_factory=list)
    jobs: dict[uuid.UUID, Row] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    connections: dict[uuid.UUID, str] = field(default_factory=dict)  # id -> status
    digests: list[Row] = field(default_factory=list)


class _Repo:
    def __init__(self, store: FakeStore) -> None:
        self.store = store


class FakeRounds(_Repo):
    async def insert_round(self, **values: Any) -> Row | None:
        if any(
            r["brand_id"] == values["brand_id"]
            and r["job_id"] == values["job_id"]
            and r["round"] == values["round"]
            for r in self.store.rounds
        ):
            return None
        row = {
            "id": uuid.uuid4(),
            "status": "pending",
            "note": None,
            "opened_at": self.store.now,
            "updated_at": self.store.now,
            "decided_at": None,
            "decided_by": None,
            "decision_comment": None,
            "content_hash": None,
            **values,
        }
        self.store.rounds.append(row)
        return dict(row)

    def _find(self, approval_id: uuid.UUID) -> Row | None:
        return next((r for r in self.store.rounds if r["id"] == approval_id), None)

    async def get_round(
        self, brand_id: uuid.UUID, approval_id: uuid.UUID, *, lock: bool = False
    ) -> Row | None:
        row = self._find(approval_id)
        return dict(row) if row and row["brand_id"] == brand_id else None

    async def latest_round(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> Row | None:
        rounds = await self.rounds_of_job(brand_id, job_id)
        return rounds[-1] if rounds else None

    async def rounds_of_job(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> list[Row]:
        return sorted(
            (dict(r) for r in self.store.rounds if r["brand_id"] == brand_id and r["job_id"] == job_id),
            key=lambda r: r["round"],
        )

    async def cancel_pending_rounds(
        self, brand_id: uuid.UUID, job_id: uuid.UUID, below_round: int | None = None
    ) -> int:
        cancelled = 0
        for r in self.store.rounds:
            if (
                r["brand_id"] == brand_id
                and r["job_id"] == job_id
                and r["status"] == "pending"
                and (below_round is None or r["round"] < below_round)
            ):
                r["status"] = "cancelled"
                cancelled += 1
        return cancelled

    async def record_decision(
        self, approval_id: uuid.UUID, status: str, decided_by: str, comment: str | None
    ) -> Row | None:
        row = self._find(approval_id)
        if row is None or row["status"] != "pending":
            return None
        row.update(status=status, decided_by=decided_by, decision_comment=comment, decided_at=self.store.now)
        return dict(row)

    async def update_pending_content(
        self, approval_id: uuid.UUID, content: str, scheduled_at: datetime | None
    ) -> None:
        row = self._find(approval_id)
        if row is not None and row["status"] == "pending":
            row.update(content=content, scheduled_at=scheduled_at)

    async def update_round_details(
        self, approval_id: uuid.UUID, *, note: str | None, approver_users: list[str] | None
    ) -> Row | None:
        row = self._find(approval_id)
        if row is None or row["status"] != "pending":
            return None
        row["note"] = note if note is not None else row["note"]
        row["approver_users"] = approver_users if approver_users is not None else row["approver_users"]
        return dict(row)

    async def status_for_share(self, approval_id: uuid.UUID) -> str | None:
        row = self._find(approval_id)
        return row["status"] if row else None


class FakeMembers(_Repo):
    async def upsert_brand(
        self, brand_id: uuid.UUID, tenant_id: uuid.UUID, name: str | None, time_zone: str
    ) -> None:
        self.store.brands[brand_id] = {"tenant_id": tenant_id, "name": name, "time_zone": time_zone}

    async def upsert_reviewer(self, brand_id: uuid.UUID, user_id: str, email: str | None, role: str) -> None:
        await self.remove_reviewer(brand_id, user_id)
        self.store.reviewers.append(
            {"brand_id": brand_id, "user_id": user_id, "email": email or "", "role": role}
        )

    async def remove_reviewer(self, brand_id: uuid.UUID, user_id: str) -> None:
        self.store.reviewers[:] = [
            r for r in self.store.reviewers if (r["brand_id"], r["user_id"]) != (brand_id, user_id)
        ]

    async def reviewer_emails(self, brand_id: uuid.UUID, *, roles: list[str], users: list[str]) -> list[str]:
        return sorted(
            {
                r["email"].lower()
                for r in self.store.reviewers
                if r["brand_id"] == brand_id and r["email"] and (r["role"] in roles or r["user_id"] in users)
            }
        )

    async def role_of(self, brand_id: uuid.UUID, user_id: str) -> str | None:
        return next(
            (r["role"] for r in self.store.reviewers if (r["brand_id"], r["user_id"]) == (brand_id, user_id)),
            None,
        )

    async def brand_time_zone(self, brand_id: uuid.UUID) -> str:
        return str(self.store.brands.get(brand_id, {}).get("time_zone") or "UTC")

    async def brand_tenant(self, brand_id: uuid.UUID) -> uuid.UUID | None:
        brand = self.store.brands.get(brand_id)
        return brand["tenant_id"] if brand else None


class FakePolicies(_Repo):
    async def policies(self, brand_id: uuid.UUID) -> list[Policy]:
        return [
            Policy(
                Mode(r["mode"]), r["approver_roles"], r["approver_users"], r["connection_id"], r["user_id"]
            )
            for r in self.store.policies
            if r["brand_id"] == brand_id
        ]


class FakeEscalations(_Repo):
    async def insert_rule(self, brand_id: uuid.UUID, rule: RuleIn) -> Row:
        row = {
            "id": uuid.uuid4(),
            "brand_id": brand_id,
            "enabled": rule.enabled,
            "levels": [level.model_dump(mode="json") for level in rule.levels],
            "quiet_start": rule.quiet_hours.start if rule.quiet_hours else None,
            "quiet_end": rule.quiet_hours.end if rule.quiet_hours else None,
        }
        self.store.rules.append(row)
        return row

    async def list_rules(self, brand_id: uuid.UUID) -> list[Row]:
        return [r for r in self.store.rules if r["brand_id"] == brand_id]

    async def candidates(self, limit: int) -> list[Row]:
        rows = []
        for a in sorted(self.store.rounds, key=lambda r: r["opened_at"]):
            if a["status"] != "pending":
                continue
            for r in self.store.rules:
                if r["brand_id"] != a["brand_id"] or not r["enabled"]:
                    continue
                levels = [
                    f["level"]
                    for f in self.store.fired
                    if (f["approval_id"], f["rule_id"]) == (a["id"], r["id"])
                ]
                rows.append(
                    {
                        "approval_id": a["id"],
                        "brand_id": a["brand_id"],
                        "tenant_id": a["tenant_id"],
                        "job_id": a["job_id"],
                        "opened_at": a["opened_at"],
                        "approver_roles": a["approver_roles"],
                        "approver_users": a["approver_users"],
                        "rule_id": r["id"],
                        "levels": r["levels"],
                        "quiet_start": r["quiet_start"],
                        "quiet_end": r["quiet_end"],
                        "time_zone": self.store.brands.get(a["brand_id"], {}).get("time_zone", "UTC"),
                        "fired_level": max(levels, default=0),
                    }
                )
        return rows[:limit]

    async def claim_firing(
        self, brand_id: uuid.UUID, approval_id: uuid.UUID, rule_id: uuid.UUID, level: int
    ) -> bool:
        key = (approval_id, rule_id, level)
        if any((f["approval_id"], f["rule_id"], f["level"]) == key for f in self.store.fired):
            return False
        self.store.fired.append(
            {
                "brand_id": brand_id,
                "approval_id": approval_id,
                "rule_id": rule_id,
                "level": level,
                "notified": [],
            }
        )
        return True

    async def set_notified(
        self, approval_id: uuid.UUID, rule_id: uuid.UUID, level: int, notified: list[str]
    ) -> None:
        for f in self.store.fired:
            if (f["approval_id"], f["rule_id"], f["level"]) == (approval_id, rule_id, level):
                f["notified"] = notified

    async def record_step(
        self,
        brand_id: uuid.UUID,
        approval_id: uuid.UUID,
        rule_id: uuid.UUID,
        level: int,
        step: str,
        detail: dict[str, Any] | None = None,
    ) -> None:
        key = (approval_id, rule_id, level, step)
        if not any(
            (h["approval_id"], h["rule_id"], h["level"], h["step"]) == key for h in self.store.history
        ):
            self.store.history.append(
                {
                    "approval_id": approval_id,
                    "rule_id": rule_id,
                    "level": level,
                    "step": step,
                    "detail": detail or {},
                }
            )

    async def resolve_fired(self, approval_id: uuid.UUID, status: str) -> None:
        for f in list(self.store.fired):
            if f["approval_id"] == approval_id:
                await self.record_step(
                    f["brand_id"], approval_id, f["rule_id"], f["level"], "resolved", {"status": status}
                )


class FakeNotifications(_Repo):
    async def enqueue(
        self,
        brand_id: uuid.UUID,
        *,
        kind: str,
        to_address: str,
        subject: str,
        body: str,
        approval_id: uuid.UUID | None,
        dedupe_key: str,
        job_id: uuid.UUID | None = None,
    ) -> uuid.UUID | None:
        if any(n["dedupe_key"] == dedupe_key for n in self.store.notifications):
            return None
        row = {
            "id": uuid.uuid4(),
            "brand_id": brand_id,
            "kind": kind,
            "to_address": to_address.lower(),
            "subject": subject,
            "body": body,
            "approval_id": approval_id,
            "job_id": job_id,
            "dedupe_key": dedupe_key,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": self.store.now,
            "sent_at": None,
            "last_error": None,
        }
        self.store.notifications.append(row)
        return row["id"]

    async def claim_due(self, limit: int) -> list[Row]:
        due = [
            n
            for n in self.store.notifications
            if n["status"] == "pending" and n["next_attempt_at"] <= self.store.now
        ]
        return sorted((dict(n) for n in due[:limit]), key=lambda r: (str(r["brand_id"]), r["to_address"]))

    def _find(self, notification_id: uuid.UUID) -> Row:
        return next(n for n in self.store.notifications if n["id"] == notification_id)

    async def mark(self, notification_id: uuid.UUID, status: str, error: str | None = None) -> None:
        row = self._find(notification_id)
        row.update(status=status, last_error=error, sent_at=self.store.now if status == "sent" else None)
        row["attempts"] += status in ("sent", "failed")

    async def retry_later(self, notification_id: uuid.UUID, delay_s: float, error: str) -> None:
        row = self._find(notification_id)
        row.update(last_error=error, next_attempt_at=self.store.now + timedelta(seconds=delay_s))
        row["attempts"] += 1

    async def sent_since(
        self, brand_id: uuid.UUID, address: str, since: datetime, kinds: tuple[str, ...] | None = None
    ) -> int:
        return sum(
            1
            for n in self.store.notifications
            if n["brand_id"] == brand_id
            and n["to_address"] == address.lower()
            and n["status"] == "sent"
            and n["sent_at"] >= since
            and (not kinds or n["kind"] in kinds)
        )

    async def held(self, brand_id: uuid.UUID, address: str) -> list[Row]:
        return [
            dict(n)
            for n in self.store.notifications
            if (n["brand_id"], n["to_address"], n["status"]) == (brand_id, address.lower(), "held")
        ]

    async def fold(self, ids: list[uuid.UUID], digest_id: uuid.UUID) -> None:
        for n in self.store.notifications:
            if n["id"] in ids:
                n.update(status="folded", folded_into=digest_id)

    async def pending_requests(self, brand_id: uuid.UUID, address: str) -> list[Row]:
        asked = {
            n["approval_id"]
            for n in self.store.notifications
            if (n["brand_id"], n["to_address"], n["kind"])
            == (brand_id, address.lower(), "approval_requested")
        }
        return sorted(
            (dict(r) for r in self.store.rounds if r["id"] in asked and r["status"] == "pending"),
            key=lambda r: r["opened_at"],
        )


class FakeClientSettings(_Repo):
    async def ensure(self, brand_id: uuid.UUID, email: str) -> Row:
        found = await self.by_email(brand_id, email)
        if found is not None:
            return found
        row = {
            "id": uuid.uuid4(),
            "brand_id": brand_id,
            "email": email.lower(),
            "preferences": {},
            "time_zone": "UTC",
            "language": "en",
            "unsubscribed_at": None,
            "unsubscribed_types": [],
            "token_version": 1,
            "created_at": self.store.now,
        }
        self.store.clients.append(row)
        return dict(row)

    async def by_email(self, brand_id: uuid.UUID, email: str) -> Row | None:
        return next(
            (dict(c) for c in self.store.clients if (c["brand_id"], c["email"]) == (brand_id, email.lower())),
            None,
        )

    async def get(self, brand_id: uuid.UUID, settings_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        return next(
            (dict(c) for c in self.store.clients if (c["brand_id"], c["id"]) == (brand_id, settings_id)), None
        )

    async def digest_candidates(self) -> list[Row]:
        return [
            {
                **c,
                "has_held": any(
                    (n["brand_id"], n["to_address"], n["status"]) == (c["brand_id"], c["email"], "held")
                    for n in self.store.notifications
                ),
            }
            for c in self.store.clients
            if c["unsubscribed_at"] is None and "digest" not in c["unsubscribed_types"]
        ]

    async def digest_claimed(self, client_id: uuid.UUID, cadence: str, period_start: date) -> bool:
        return any(
            (d["client_id"], d["cadence"], d["period_start"]) == (client_id, cadence, period_start)
            for d in self.store.digests
        )

    async def claim_digest(
        self,
        brand_id: uuid.UUID,
        client_id: uuid.UUID,
        cadence: str,
        period_start: date,
        notification_id: uuid.UUID,
    ) -> bool:
        if await self.digest_claimed(client_id, cadence, period_start):
            return False
        self.store.digests.append(
            {
                "client_id": client_id,
                "cadence": cadence,
                "period_start": period_start,
                "notification_id": notification_id,
            }
        )
        return True

    def set(self, brand_id: uuid.UUID, email: str, **values: Any) -> None:
        """Test setup: a client's settings as a manager's PUT would leave them."""
        for c in self.store.clients:
            if (c["brand_id"], c["email"]) == (brand_id, email.lower()):
                c.update(values)


class FakeJobs(_Repo):
    async def remember(
        self,
        brand_id: uuid.UUID,
        job_id: uuid.UUID,
        *,
        content: str | None = None,
        author_id: str | None = None,
    ) -> None:
        job = self.store.jobs.setdefault(job_id, {"brand_id": brand_id, "content": None, "author_id": None})
        job.update({k: v for k, v in {"content": content, "author_id": author_id}.items() if v is not None})

    async def known(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> bool:
        return self.store.jobs.get(job_id, {}).get("brand_id") == brand_id

    async def get(self, brand_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any] | None:
        job = self.store.jobs.get(job_id)
        return dict(job) if job and job["brand_id"] == brand_id else None


class FakeKnownConnections(_Repo):
    async def record(self, envelope: EventEnvelope, data: Any) -> None:
        self.store.connections[data.connection_id] = data.event_type()

    async def problem_with(self, brand_id: uuid.UUID, connection_id: uuid.UUID) -> tuple[str, str] | None:
        status = self.store.connections.get(connection_id)
        if status is None:
            return "unknown_connection", f"no connection {connection_id} in this brand"
        if status == "connections.disconnected":
            return "connection_disconnected", f"connection {connection_id} was disconnected"
        return None


class FakeUnitOfWork(FakeTransaction):
    def __init__(self, store: FakeStore, *, brand_id: uuid.UUID | None = None, role: Role = "app") -> None:
        super().__init__(store)
        self.brand_id = brand_id
        self.role = role
        self.rounds = FakeRounds(store)
        self.members = FakeMembers(store)
        self.policies = FakePolicies(store)
        self.escalations = FakeEscalations(store)
        self.notifications = FakeNotifications(store)
        self.clients = FakeClientSettings(store)
        self.jobs = FakeJobs(store)
        self.connections = FakeKnownConnections(store)

    @property
    def schema(self) -> str:
        return "approval"


@dataclass
class FakeUnitsOfWork:
    store: FakeStore = field(default_factory=FakeStore)
    opened: list[FakeUnitOfWork] = field(default_factory=list)

    def __call__(self, *, brand_id: uuid.UUID | None = None, role: Role = "app") -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self.store, brand_id=brand_id, role=role)
        self.opened.append(uow)
        return uow


@dataclass
class FakeMailer:
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    failing: bool = False

    async def send(self, to: str, subject: str, body: str, headers: dict[str, str] | None = None) -> None:
        if self.failing:
            raise ConnectionRefusedError("mail server down")
        self.sent.append((to, subject, body))
