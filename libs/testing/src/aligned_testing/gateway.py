"""Test support (used by tests and the benchmark): run the gateway and small upstream stubs.

The stubs stand in for the services (so these tests do not depend on services other
engineers are still writing): they verify the gateway's signed identity headers with
aligned_common.identity, keep items per brand, and answer 404 for another brand's ids,
as the real services do. `delay_s` makes one slow; `stop()` takes one down.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import Depends, FastAPI, Request, Response
from sse_starlette.sse import AppStatus

from aligned_common.identity import Identity, current_identity
from aligned_common.migrations import migrate
from aligned_common.problems import Problem, install_problem_handlers
from aligned_gateway.adapters.jwt_verifier import issue_token
from aligned_gateway.bootstrap import build, create_gateway_app
from aligned_gateway.config import Settings
from aligned_gateway.service_layer.deps import Deps
from aligned_testing.service import free_port

JWT_SECRET = "test-secret-" + uuid.uuid4().hex
COLLECTIONS = {
    "publishing": "/v1/jobs",
    "approval": "/v1/approvals",
    "connections": "/v1/connections",
    "analytics": "/v1/analytics/goals",
    "webhooks": "/v1/webhook-endpoints",
    "engagement": "/v1/engagement/templates",
    "brandkit": "/v1/brand-kit/versions",
}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class StubState:
    service: str
    delay_s: float = 0.0
    items: dict[str, dict] = field(default_factory=dict)  # id -> item (with brand_id)
    seen: list[Identity] = field(default_factory=list)
    calls: int = 0


def stub_app(state: StubState) -> FastAPI:
    app = FastAPI(title=f"stub {state.service}")
    install_problem_handlers(app)
    collection = COLLECTIONS[state.service]

    async def who(request: Request, identity: Identity = Depends(current_identity)) -> Identity:
        state.calls += 1
        state.seen.append(identity)
        if state.delay_s:
            await asyncio.sleep(state.delay_s)
        return identity

    def mine(identity: Identity) -> list[dict]:
        return [i for i in state.items.values() if i["brand_id"] == str(identity.brand_id)]

    def owned(identity: Identity, item_id: str) -> dict:
        item = state.items.get(item_id)
        if item is None or item["brand_id"] != str(identity.brand_id):
            raise Problem(404, "Not found", detail="no such item")
        return item

    @app.get(collection)
    async def list_items(identity: Identity = Depends(who)) -> dict:
        return {"items": mine(identity), "next_cursor": None}

    @app.post(collection, status_code=201)
    async def create(body: dict, identity: Identity = Depends(who)) -> dict:
        item: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "job_id": None,
            "brand_id": str(identity.brand_id),
            "body": body,
            "created_by": identity.user_id,
        }
        item["job_id"] = item["id"]
        state.items[item["id"]] = item
        return item

    @app.get(collection + "/{item_id}")
    async def get_item(item_id: uuid.UUID, identity: Identity = Depends(who)) -> dict:
        return owned(identity, str(item_id))

    @app.delete(collection + "/{item_id}", status_code=204)
    async def delete_item(item_id: uuid.UUID, identity: Identity = Depends(who)) -> Response:
        state.items.pop(owned(identity, str(item_id))["id"])
        return Response(status_code=204)

    if state.service == "engagement":

        @app.get("/v1/engagement/counts")
        async def counts(identity: Identity = Depends(who)) -> dict:
            return {"open": len(mine(identity)), "done": 0}

    if state.service == "approval":

        @app.get("/v1/jobs/{job_id}/approvals")
        async def rounds(job_id: uuid.UUID, identity: Identity = Depends(who)) -> dict:
            owned(identity, str(job_id))
            return {"items": [i for i in mine(identity) if i["body"].get("job_id") == str(job_id)]}

    if state.service == "analytics":

        @app.get("/v1/analytics/summary")
        async def summary(identity: Identity = Depends(who)) -> dict:
            return {"brand_id": str(identity.brand_id), "impressions": 42}

        @app.get("/v1/analytics/posts")
        async def posts(identity: Identity = Depends(who)) -> dict:
            return {"items": [], "next_cursor": None}

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def any_route(path: str, identity: Identity = Depends(who)) -> dict:
        # Every id in the path must be this brand's, as in the real services.
        for item_id in _UUID.findall(path):
            owned(identity, item_id)
        return {"path": path, "brand_id": str(identity.brand_id)}

    return app


@dataclass
class RunningApp:
    base_url: str
    server: uvicorn.Server
    task: asyncio.Task

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def start_app(app, port: int | None = None) -> RunningApp:
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done():
            task.result()
        if time.monotonic() > deadline:
            raise TimeoutError("app did not start")
        await asyncio.sleep(0.02)
    return RunningApp(f"http://127.0.0.1:{port}", server, task)


@dataclass
class Stubs:
    states: dict[str, StubState]
    running: dict[str, RunningApp]

    def urls(self) -> dict[str, str]:
        return {f"{name}_url": app.base_url for name, app in self.running.items()}


@asynccontextmanager
async def running_stubs(delays: dict[str, float] | None = None) -> AsyncIterator[Stubs]:
    shared: dict[
        str, dict
    ] = {}  # one id space, so approval knows publishing's job ids (as events would tell it)
    states = {name: StubState(name, (delays or {}).get(name, 0.0), shared) for name in COLLECTIONS}
    running = {name: await start_app(stub_app(state)) for name, state in states.items()}
    try:
        yield Stubs(states, running)
    finally:
        for app in running.values():
            with contextlib.suppress(Exception):
                await app.stop()


@dataclass
class Gateway:
    base_url: str
    app: FastAPI
    settings: Settings

    def client(self, **kwargs) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=30, **kwargs)

    @property
    def deps(self) -> Deps:
        deps = self.app.state.ctx.deps
        assert isinstance(deps, Deps)
        return deps


@asynccontextmanager
async def running_gateway(schema: str, **overrides) -> AsyncIterator[Gateway]:
    values = {
        "jwt_secret": JWT_SECRET,
        "dev_tokens_enabled": True,
        "live_retention_s": 120.0,
        "brand_burst": 10_000.0,
        "user_burst": 10_000.0,
        **overrides,
    }
    settings = Settings(**values)
    # Several uvicorn servers share this process in tests: sse-starlette's drain watcher
    # would take any one of them stopping (a stub) for our shutdown and end every stream.
    AppStatus.enable_automatic_graceful_drain = False
    definition = build(settings, name=schema)
    await migrate(settings.database_url, schema, definition.migrations_dir)
    app = create_gateway_app(definition)
    running = await start_app(app)
    try:
        async with httpx.AsyncClient(base_url=running.base_url) as client:
            for _ in range(300):
                if (await client.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
        yield Gateway(running.base_url, app, settings)
    finally:
        await running.stop()


def token(
    *,
    sub: str,
    tenant_id: uuid.UUID,
    brands: list[uuid.UUID],
    role: str = "owner",
    email: str | None = None,
    ttl_s: int = 600,
    now: float | None = None,
    secret: str = JWT_SECRET,
) -> str:
    return issue_token(
        secret=secret,
        issuer="aligned",
        audience="aligned-api",
        subject=sub,
        tenant_id=tenant_id,
        brand_ids=brands,
        role=role,
        email=email,
        ttl_s=ttl_s,
        now=now,
    )


def bearer(value: str, brand: uuid.UUID | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {value}"}
    if brand:
        headers["X-Brand-Id"] = str(brand)
    return headers


@dataclass
class Member:
    user_id: str
    tenant_id: uuid.UUID
    brand_id: uuid.UUID
    role: str
    member_id: uuid.UUID | None = None

    @property
    def headers(self) -> dict[str, str]:
        return bearer(
            token(
                sub=self.user_id,
                tenant_id=self.tenant_id,
                brands=[self.brand_id],
                role=self.role,
                email=f"{self.user_id}@example.com",
            )
        )


async def new_brand(client: httpx.AsyncClient, name: str = "Brand") -> Member:
    """A fresh tenant whose owner creates a brand; returns the owner."""
    tenant = uuid.uuid4()
    user = f"owner-{uuid.uuid4().hex[:8]}"
    creating = bearer(token(sub=user, tenant_id=tenant, brands=[], role="owner", email=f"{user}@example.com"))
    response = await client.post("/v1/brands", json={"name": name}, headers=creating)
    assert response.status_code == 201, response.text
    return Member(user, tenant, uuid.UUID(response.json()["brand_id"]), "owner")


async def add_member(client: httpx.AsyncClient, owner: Member, role: str) -> Member:
    user = f"{role}-{uuid.uuid4().hex[:8]}"
    invited = await client.post(
        "/v1/invites", json={"email": f"{user}@example.com", "role": role}, headers=owner.headers
    )
    assert invited.status_code == 201, invited.text
    member = Member(user, owner.tenant_id, owner.brand_id, role)
    accepted = await client.post(
        "/v1/invites/accept", json={"token": invited.json()["token"]}, headers=member.headers
    )
    assert accepted.status_code == 201, accepted.text
    member.member_id = uuid.UUID(accepted.json()["member_id"])
    return member


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        import orjson

        return orjson.loads(self.body)


async def raw_request(
    base_url: str,
    method: str,
    target: str | bytes,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout_s: float = 30,
) -> RawAnswer:
    """One HTTP/1.1 request with the target exactly as given: httpx (like a browser) removes
    dot segments and re-encodes before sending, which would hide what a hostile client sends."""
    import h11

    url = httpx.URL(base_url)
    raw_target = target.encode("latin-1") if isinstance(target, str) else target
    all_headers = [
        ("Host", f"{url.host}:{url.port}"),
        ("Connection", "close"),
        *((headers or {}).items()),
        ("Content-Length", str(len(body))),
    ]
    conn = h11.Connection(h11.CLIENT)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(url.host, url.port), timeout_s)
    try:
        # h11 validates targets; write the request line ourselves so any bytes go out as given.
        head = conn.send(h11.Request(method=method, target="/", headers=all_headers))
        head = head.replace(b" / HTTP/1.1", b" " + raw_target + b" HTTP/1.1", 1)
        writer.write(head + body)
        await writer.drain()
        status, response_headers, chunks = 0, {}, []
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await asyncio.wait_for(reader.read(65536), timeout_s))
                continue
            if isinstance(event, h11.Response):
                status = event.status_code
                response_headers = {k.decode().lower(): v.decode("latin-1") for k, v in event.headers}
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
        return RawAnswer(status, response_headers, b"".join(chunks))
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
