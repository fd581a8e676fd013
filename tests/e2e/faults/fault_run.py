"""A fault run: posts for many brands flow through approval and publishing, with platform
webhooks arriving, while services are killed, the broker and the database go away and the
platform fails one call in five. Then the books are checked.

Everything the run does to the platform goes through the gateway. A caller of a real API does
not know whether a request that died with the gateway was carried out, so each step either
retries with its Idempotency-Key or, while the key is still held (a gateway that died holding
it leaves it reserved until `idempotency_abandoned_after_s`, 30 s, have passed), looks at the
state first and only then tries again with a new key.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from kafka_ledger import KafkaLedger, Ledger, groups_caught_up

from aligned_testing.flows import in_seconds, onboard_brand, unknown_connection
from aligned_testing.gateway_client import ApiError, BrandSetup, Gateway, SandboxControl
from aligned_testing.system import System

# The platform fails one call in five: an error, a rate limit, or the post made but the answer
# lost (held past connections' read timeout, 2 s in the e2e system).
PLATFORM_FAULTS = {
    "fail_ratio": 0.2,
    "modes": ["error_500", "error_429", "timeout_after_accept"],
    "delay_s": 3,
    "retry_after_s": 1,
    "seed": 7,
}
# connections is killed with many platform calls in flight (issue 20: aim 64): a block of posts
# falls due at one instant, the platform holds each of their publishes for BURST_SLOW_S (under
# connections' 2 s read timeout: slow, not lost), and the kill comes once the platform has that
# many calls open, or BURST_KILL_WAIT_S after the instant at the latest.
BURST_POSTS = 80
BURST_SLOW_S = 1.5
BURST_IN_FLIGHT_AIM = 64
BURST_KILL_WAIT_S = 15
MAX_RETRIES = 20  # per job: with one call in five failing, 3 retries would lose about one post in 600
KAFKA_OUTAGE_S = 20
STEP_RETRY_S = 20  # how long one step retries its request before looking at the state instead


@dataclass
class Post:
    brand: BrandSetup
    marker: str
    text: str
    due_in_s: float | None  # None: one of the burst, due at the run's burst instant
    job_id: str | None = None
    remote_id: str | None = None


@dataclass
class Report:
    posts: int = 0
    brands: int = 0
    processes_per_service: int = 1
    seconds_to_all_published: float = 0.0
    faults: list[str] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)

    def print(self) -> None:
        print(
            json.dumps(
                {
                    "posts": self.posts,
                    "brands": self.brands,
                    "processes_per_service": self.processes_per_service,
                    "seconds_to_all_published": round(self.seconds_to_all_published, 1),
                    "faults": self.faults,
                    "counts": self.counts,
                },
                indent=2,
                default=str,
            )
        )


class FaultRun:
    def __init__(
        self,
        system: System,
        api: Gateway,
        sandbox: SandboxControl,
        *,
        posts: int,
        brands: int,
        seed: int,
        window_s: float,
    ) -> None:
        self.system = system
        self.api = api
        self.sandbox = sandbox
        self.n_posts = posts
        self.n_brands = brands
        self.rng = random.Random(seed)
        self.window_s = window_s  # posts fall due across this window, and the faults happen in it
        self.brands: list[BrandSetup] = []
        self.posts: list[Post] = []
        self.webhooks_accepted: set[str] = set()  # webhook ids the platform saw answered 202
        self.report = Report(
            posts=posts, brands=brands, processes_per_service=len(system.processes["gateway"])
        )
        self.ledger = KafkaLedger(system.infra.kafka_bootstrap)
        self._all_published = asyncio.Event()
        self.burst_offset_s = 15 + window_s / 2  # after the run's start
        self.burst_due_at = 0.0  # time.time() of the burst instant, set when the run starts

    # -- setup ------------------------------------------------------------------------------------
    async def setup(self) -> None:
        await self.ledger.mark_start()
        gate = asyncio.Semaphore(5)

        async def one(i: int) -> BrandSetup:
            async with gate:
                return await onboard_brand(self.api, self.sandbox.base_url, label=f"fault{i}")

        self.brands = list(await asyncio.gather(*(one(i) for i in range(self.n_brands))))
        burst = min(BURST_POSTS, self.n_posts // 4)  # the first ones: the authors create them first
        for i in range(self.n_posts):
            brand = self.brands[i % self.n_brands]
            marker = f"m{uuid.uuid4().hex[:12]}"
            due = None if i < burst else 15 + self.window_s * i / max(1, self.n_posts - 1)
            self.posts.append(Post(brand, marker, f"Fault run post {i} {marker}", due))

    # -- the run -----------------------------------------------------------------------------------
    async def run(self, deadline_s: float) -> None:
        await self.sandbox.add_fault(**PLATFORM_FAULTS)
        started = time.monotonic()
        self.burst_due_at = time.time() + self.burst_offset_s
        try:
            workers = [asyncio.create_task(self._author(chunk)) for chunk in self._chunks(6)]
            workers += [asyncio.create_task(self._approver(b)) for b in self.brands]
            workers += [asyncio.create_task(self._watch_and_send_webhooks())]
            chaos = asyncio.create_task(self._inject_faults())
            try:
                await self._until_all_published(workers, deadline_s)
            finally:
                for task in workers:
                    task.cancel()
                await asyncio.gather(*workers, return_exceptions=True)
                await chaos  # the faults always finish, so the books are checked on a whole system
            self.report.seconds_to_all_published = time.monotonic() - started
        finally:
            await self.sandbox.clear_faults()

    async def _until_all_published(self, workers: list[asyncio.Task], deadline_s: float) -> None:
        """Waits for the last post; a worker that fails (an answer no retry can fix) ends the run."""
        waiter = asyncio.create_task(self._all_published.wait())
        pending = {waiter, *workers}
        end = time.monotonic() + deadline_s
        while not waiter.done():
            done, pending = await asyncio.wait(
                pending, timeout=max(0.0, end - time.monotonic()), return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                waiter.cancel()
                created = sum(1 for p in self.posts if p.job_id)
                published = sum(1 for p in self.posts if p.remote_id)
                raise TimeoutError(
                    f"after {deadline_s:.0f} s: {created} of {len(self.posts)} posts created, "
                    f"{published} published; faults so far: {self.report.faults}"
                )
            for task in done:
                if task is not waiter and not task.cancelled() and task.exception() is not None:
                    waiter.cancel()
                    raise task.exception()

    def _chunks(self, n: int) -> list[list[Post]]:
        return [self.posts[i::n] for i in range(n)]

    async def _author(self, posts: list[Post]) -> None:
        for post in posts:
            await self._create(post)
            await self._submit(post)

    async def _create(self, post: Post) -> None:
        due_in_s = post.due_in_s if post.due_in_s is not None else max(1.0, self.burst_due_at - time.time())
        body = {
            "content": post.text,
            "tags": [post.marker],
            "requires_approval": True,
            "scheduled_at": in_seconds(due_in_s),
            "max_retries": MAX_RETRIES,
            "targets": [{"platform": "sandbox", "connection_id": post.brand.connection_id}],
        }

        async def already_there():
            found = (await post.brand.owner.api.get("/v1/jobs", q=post.marker, limit=5))["items"]
            return found[0] if found else None

        job = await self._step(post.brand.owner.api, "/v1/jobs", body, already_there)
        post.job_id = job["job_id"]

    async def _submit(self, post: Post) -> None:
        owner = post.brand.owner.api

        async def already_submitted():
            job = await owner.get(f"/v1/jobs/{post.job_id}")
            return job if job["status"] != "draft" else None

        await self._step(owner, f"/v1/jobs/{post.job_id}/submit", None, already_submitted)

    async def _step(self, api: Gateway, path: str, body: Any, done_already) -> dict:
        """POST with its Idempotency-Key; if that cannot finish (the key stuck with a dead
        gateway, or the outage lasting), look at the state, and only then try a new key."""
        while True:
            try:
                return await api.request("POST", path, json_body=body, retry_for_s=STEP_RETRY_S)
            except (ApiError, httpx.TransportError) as error:
                if isinstance(error, ApiError) and unknown_connection(error):
                    await asyncio.sleep(0.3)  # publishing has not heard of the fresh connection yet
                    continue
                if isinstance(error, ApiError) and error.status not in (409, 429, 500, 502, 503, 504):
                    raise
            try:
                found = await done_already()
            except (ApiError, httpx.TransportError):
                found = None
            if found:
                return found

    async def _approver(self, brand: BrandSetup) -> None:
        """The brand's client works through the pending queue (a 409 means decided already)."""
        client = brand.client.api
        while True:
            try:
                pending = (await client.get("/v1/approvals", status="pending", limit=100))["items"]
                for round_ in pending:
                    try:
                        await client.post(
                            f"/v1/approvals/{round_['id']}/decision",
                            {"decision": "approve", "comment": "ok"},
                            retry_for_s=STEP_RETRY_S,
                        )
                    except ApiError as error:
                        if error.status not in (409, 429, 500, 502, 503, 504):
                            raise
            except (ApiError, httpx.TransportError):
                pass  # a restart or an outage: the next pass picks the queue up again
            await asyncio.sleep(1)

    async def _watch_and_send_webhooks(self) -> None:
        """Polls each brand's published jobs; the platform then sends a webhook for each new post."""
        sending: list[asyncio.Task] = []
        gate = asyncio.Semaphore(4)
        try:
            while not all(p.remote_id for p in self.posts):
                by_job = {p.job_id: p for p in self.posts if p.job_id}
                for brand in self.brands:
                    try:
                        page = await brand.owner.api.get("/v1/jobs", status="published", limit=200)
                    except (ApiError, httpx.TransportError):
                        continue
                    for job in page["items"]:
                        post = by_job.get(job["job_id"])
                        if post is not None and post.remote_id is None:
                            post.remote_id = job["targets"][0]["remote_id"]
                            sending.append(asyncio.create_task(self._platform_webhook(post, gate)))
                await asyncio.sleep(2)
            await asyncio.gather(*sending)
            self._all_published.set()
        finally:
            for task in sending:
                task.cancel()

    async def _platform_webhook(self, post: Post, gate: asyncio.Semaphore) -> None:
        async with gate:
            for _ in range(60):
                try:
                    sent = await self.sandbox.send_webhook(
                        type="post.status_changed", post_id=post.remote_id, status="published"
                    )
                except (ApiError, httpx.TransportError):
                    sent = {}
                if sent.get("status_code") == 202:
                    self.webhooks_accepted.add(sent["webhook_id"])
                    return
                await asyncio.sleep(1)  # the gateway or the database is away: the platform tries again later

    # -- faults ------------------------------------------------------------------------------------
    async def _inject_faults(self) -> None:
        faults = [("kill", name) for name in self.system.names() if name not in ("sandbox", "connections")]
        faults += [("kafka", None), ("postgres", None)]
        self.rng.shuffle(faults)
        # The others keep clear of the burst (from 30 s before it to 10 s after), so that
        # connections' kill finds its calls in flight, not the broker or the database away.
        quiet = (self.burst_offset_s - 30 - KAFKA_OUTAGE_S, self.burst_offset_s + 10)
        moments = []
        while len(moments) < len(faults):
            moment = self.rng.uniform(5, self.window_s)
            if not quiet[0] <= moment <= quiet[1]:
                moments.append(moment)
        schedule = sorted(zip(moments, faults, strict=True), key=lambda item: item[0])
        started = time.monotonic()
        # Faults one at a time: one that overruns its slot (a broker that takes 45 s to come
        # back on a loaded machine) delays the next instead of overlapping it.
        one_at_a_time = asyncio.Lock()
        burst = asyncio.create_task(self._burst_kill(started, one_at_a_time))
        try:
            await self._faults_in_turn(schedule, started, quiet, one_at_a_time)
            await burst
        finally:
            burst.cancel()  # the run ended first (a failure): no kill after it

    async def _faults_in_turn(
        self,
        schedule: list[tuple[float, tuple[str, str | None]]],
        started: float,
        quiet: tuple[float, float],
        one_at_a_time: asyncio.Lock,
    ) -> None:
        for moment, (kind, name) in schedule:
            await asyncio.sleep(max(0.0, moment - (time.monotonic() - started)))
            elapsed = time.monotonic() - started
            if quiet[0] <= elapsed <= quiet[1]:  # pushed into the burst's quiet time by a slow one
                await asyncio.sleep(quiet[1] - elapsed)
            async with one_at_a_time:
                at = time.monotonic() - started
                await asyncio.to_thread(self._fault, kind, name)
                self.report.faults.append(
                    f"{at:5.1f}s {kind} {name or ''} ({time.monotonic() - started - at:.1f}s)"
                )

    async def _burst_kill(self, started: float, one_at_a_time: asyncio.Lock) -> None:
        """connections' kill at the burst, on its own clock: behind the other faults, a slow one
        pushed it past the burst's posts (they had gone out, and it found 6 calls in flight)."""
        await asyncio.sleep(max(0.0, self.burst_offset_s - 2 - (time.monotonic() - started)))
        async with one_at_a_time:
            at = time.monotonic() - started
            in_flight = await self._kill_with_calls_in_flight()
            self.report.faults.append(
                f"{at:5.1f}s kill with {in_flight} platform calls in flight: connections "
                f"({time.monotonic() - started - at:.1f}s)"
            )

    async def _kill_with_calls_in_flight(self) -> int:
        """Slows the platform's publishes ahead of the burst, kills a connections process once
        the platform holds BURST_IN_FLIGHT_AIM calls (or the wait is over), and returns how many
        it held then. A publish held BURST_SLOW_S is open from when the rule fired until then."""
        await self.sandbox.clear_faults()
        await self.sandbox.add_fault(
            mode="slow", delay_s=BURST_SLOW_S, endpoint="/api/v1/posts", method="POST", count=1_000_000
        )
        await self.sandbox.add_fault(**PLATFORM_FAULTS)  # behind the slow rule: the first match decides
        fired_at: list[tuple[float, int]] = []
        deadline = time.monotonic() + 2 + BURST_KILL_WAIT_S
        in_flight = 0
        while time.monotonic() < deadline:
            rules = await self.sandbox.faults()
            remaining = next((r["remaining"] for r in rules if r.get("mode") == "slow"), 1_000_000)
            now = time.monotonic()
            fired_at.append((now, 1_000_000 - remaining))
            in_flight = fired_at[-1][1] - max((n for t, n in fired_at if t <= now - BURST_SLOW_S), default=0)
            if in_flight >= BURST_IN_FLIGHT_AIM:
                break
            await asyncio.sleep(0.05)
        self.report.counts["platform_calls_in_flight_at_connections_kill"] = in_flight
        await asyncio.to_thread(self._fault, "kill", "connections")
        await self.sandbox.clear_faults()
        await self.sandbox.add_fault(**PLATFORM_FAULTS)
        return in_flight

    def _fault(self, kind: str, name: str | None) -> None:
        if kind == "kill":
            replica = self.rng.randrange(len(self.system.processes[name]))
            self.system.restart(name, hard=True, replica=replica)
        elif kind == "kafka":
            self.system.infra.stop_kafka()
            time.sleep(KAFKA_OUTAGE_S)
            self.system.infra.start_kafka()
        else:
            self.system.infra.restart_postgres()

    # -- the books ---------------------------------------------------------------------------------
    async def check(self) -> list[str]:
        """Every check's failures (empty: all good); the counts go into the report."""
        problems: list[str] = []
        held = self.report.counts.get("platform_calls_in_flight_at_connections_kill", 0)
        if held < BURST_IN_FLIGHT_AIM // 2:
            problems.append(
                f"connections was killed with only {held} platform calls in flight (aim {BURST_IN_FLIGHT_AIM})"
            )
        problems += await self._check_platform()
        problems += await self._check_jobs()
        ends = await self.ledger.end_offsets()
        owed = await groups_caught_up(
            self.system.infra.kafka_bootstrap, self.system.consumer_groups(), ends, 180
        )
        problems += [f"consumer group {g} has {n} message(s) it never consumed" for g, n in owed.items() if n]
        # Late events (a post's first metrics sync) may still be on their way to the audit
        # trail: compare until both sides agree, or the deadline says they never will.
        deadline = time.monotonic() + 120
        while True:
            ledger = await self.ledger.read({b.brand_id for b in self.brands})
            trail = await self._check_audit(ledger)
            if not trail or time.monotonic() >= deadline:
                break
            await asyncio.sleep(3)
        problems += trail
        problems += self._check_dead_letters(ledger)
        problems += self._check_webhooks(ledger)
        return problems

    async def _check_platform(self) -> list[str]:
        by_text = (await self.sandbox.counts())["by_text"]
        made = Counter({p.text: by_text.get(p.text, 0) for p in self.posts})
        self.report.counts["platform_posts"] = sum(made.values())
        self.report.counts["platform_duplicates"] = sum(n - 1 for n in made.values() if n > 1)
        return [f"{text!r} was posted {n} times" for text, n in made.items() if n != 1]

    async def _check_jobs(self) -> list[str]:
        gate = asyncio.Semaphore(8)
        problems: list[str] = []
        attempts = Counter()

        async def one(post: Post) -> None:
            async with gate:
                job = await post.brand.owner.api.get(f"/v1/jobs/{post.job_id}")
                rounds = (await post.brand.owner.api.get(f"/v1/jobs/{post.job_id}/approvals"))["items"]
            target = job["targets"][0]
            attempts.update(a["outcome"] for a in job["attempts"])
            if (
                job["status"] != "published"
                or target["status"] != "published"
                or target["remote_id"] != post.remote_id
            ):
                problems.append(f"job {post.job_id}: {job['status']} / target {target['status']}")
            if [r["status"] for r in rounds] != ["approved"]:
                problems.append(f"job {post.job_id}: approval rounds {[r['status'] for r in rounds]}")

        await asyncio.gather(*(one(p) for p in self.posts))
        self.report.counts["jobs_published"] = len(self.posts) - len(problems)
        self.report.counts["publish_attempts_by_outcome"] = dict(attempts)
        return problems

    def _check_dead_letters(self, ledger: Ledger) -> list[str]:
        reasons = Counter(
            dict(r.headers or []).get("x-dlq-reason", b"").decode() for r in ledger.dead_letters
        )
        self.report.counts["dead_letters_by_reason"] = dict(reasons)
        return [f"{n} dead letter(s) without a reason" for reason, n in reasons.items() if not reason]

    def _check_webhooks(self, ledger: Ledger) -> list[str]:
        announced = Counter(
            e["data"]["provider_event_id"] for e in ledger.events if e["type"] == "webhooks.received"
        )
        distinct = {
            e["id"]: e["data"]["provider_event_id"] for e in ledger.events if e["type"] == "webhooks.received"
        }
        per_webhook = Counter(distinct.values())
        self.report.counts["platform_webhooks_accepted"] = len(self.webhooks_accepted)
        self.report.counts["webhooks_received_events"] = len(distinct)
        self.report.counts["webhooks_received_on_topic_incl_redelivery"] = sum(announced.values())
        problems = [
            f"webhook {w} was announced {per_webhook[w]} times"
            for w in self.webhooks_accepted
            if per_webhook[w] != 1
        ]
        problems += [f"webhook {w} announced {n} times" for w, n in per_webhook.items() if n > 1]
        return problems

    async def _check_audit(self, ledger: Ledger) -> list[str]:
        """The audit trail has exactly one row per domain event of each brand."""
        self.report.counts["domain_events"] = len(ledger.event_ids())
        self.report.counts["domain_events_by_type"] = dict(sorted(ledger.by_type().items()))
        self.report.counts["events_published_more_than_once_by_the_relay"] = ledger.redelivered()
        problems: list[str] = []
        rows_total = 0
        for brand in self.brands:
            expected = ledger.event_ids(brand.brand_id)
            rows = await self._audit_rows(brand)
            ids = [str(r["event_id"]) for r in rows]
            rows_total += len(ids)
            if len(ids) != len(set(ids)):
                problems.append(f"brand {brand.brand_id}: {len(ids) - len(set(ids))} audit rows twice")
            if set(ids) != expected:
                missing, extra = expected - set(ids), set(ids) - expected
                problems.append(
                    f"brand {brand.brand_id}: audit lacks {len(missing)} event(s), has {len(extra)} unknown"
                )
        self.report.counts["audit_rows"] = rows_total
        return problems

    async def _audit_rows(self, brand: BrandSetup) -> list[dict]:
        rows, cursor = [], None
        while True:
            page = await brand.owner.api.get("/v1/audit-logs", limit=500, cursor=cursor)
            rows += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return rows
