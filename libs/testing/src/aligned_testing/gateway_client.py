"""A client of Aligned's public API (the gateway) and of the sandbox platform's control API.

The demo (deploy/local/demo.py), the end-to-end and fault tests and the pipeline benchmark
all act through this, the way a frontend would: development tokens, brands and members,
OAuth with the sandbox platform, posts, approvals, reads. Nothing here reads a service's
tables or calls a service behind the gateway's back.

Every POST carries an Idempotency-Key, so a call retried after a dropped connection or a
restarted gateway is safe (`retry_for_s`): the gateway answers the retry with the first
answer instead of doing the work twice.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import socket
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from aligned_testing import polling

# Answers worth retrying with the same Idempotency-Key: the gateway or a service restarting.
RETRYABLE = {429, 502, 503, 504}
REDIRECT_URI = "http://127.0.0.1:9/oauth/callback"  # the frontend's callback page: never loaded


class ApiError(Exception):
    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} -> {status}: {str(body)[:500]}")
        self.status = status
        self.body = body


class Gateway:
    """One caller (a token, or none) of one or more gateway processes, used round-robin."""

    def __init__(
        self,
        base_urls: str | list[str],
        token: str | None = None,
        *,
        retry_for_s: float = 0,
        _clients: list[httpx.AsyncClient] | None = None,
    ) -> None:
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        self.base_urls = urls
        self.token = token
        self.retry_for_s = retry_for_s
        self._clients = _clients or [
            httpx.AsyncClient(base_url=u, timeout=httpx.Timeout(30, connect=5)) for u in urls
        ]
        self._next = itertools.cycle(range(len(self._clients)))

    def as_(self, token: str) -> Gateway:
        """The same connections, another caller."""
        return Gateway(self.base_urls, token, retry_for_s=self.retry_for_s, _clients=self._clients)

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    def _headers(self, method: str, key: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if method == "POST" and key:
            headers["Idempotency-Key"] = key
        return headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict | None = None,
        retry_for_s: float | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        headers: dict[str, str] | None = None,
    ) -> Any:
        """The answer's JSON; ApiError for any other status than `ok`. Transport errors, 429 and
        502-504 (and 409 "in progress" of our own earlier try) are retried with the same
        Idempotency-Key until `retry_for_s` has passed."""
        key = uuid.uuid4().hex
        deadline = time.monotonic() + (self.retry_for_s if retry_for_s is None else retry_for_s)
        attempt = 0
        while True:
            attempt += 1
            client = self._clients[next(self._next)]
            try:
                response = await client.request(
                    method,
                    path,
                    json=json_body,
                    params=params,
                    headers=self._headers(method, key) | (headers or {}),
                )
            except httpx.TransportError:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(min(2.0, 0.2 * attempt))
                continue
            body = _body(response)
            if response.status_code in ok:
                return body
            retry = response.status_code in RETRYABLE or (response.status_code == 409 and _in_progress(body))
            if retry and time.monotonic() < deadline:
                await asyncio.sleep(_wait_for(response, attempt))
                continue
            raise ApiError(method, path, response.status_code, body)

    async def get(self, path: str, **params: Any) -> Any:
        return await self.request(
            "GET", path, params={k: v for k, v in params.items() if v is not None} or None
        )

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return await self.request("POST", path, json_body=body, **kwargs)

    async def upload(
        self, path: str, filename: str, data: bytes, content_type: str, form: dict[str, str] | None = None
    ) -> httpx.Response:
        """A multipart file upload (the form field `file`, and other `form` fields), as a browser
        sends it; the raw answer."""
        client = self._clients[next(self._next)]
        return await client.post(
            path,
            files={"file": (filename, data, content_type)},
            data=form,
            headers=self._headers("POST", uuid.uuid4().hex),
            timeout=120,
        )

    async def fetch(self, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """A GET whose answer is not JSON (a calendar feed, a page), as a calendar app or a
        browser (`headers`: its Accept) sends it; the raw answer."""
        client = self._clients[next(self._next)]
        return await client.get(path, headers=self._headers("GET", None) | (headers or {}))

    async def send(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """One request, no retry, the raw answer: for tests that read headers (ETag) or send
        conditional ones (If-Match)."""
        client = self._clients[next(self._next)]
        return await client.request(
            method, path, json=body, headers=self._headers(method, uuid.uuid4().hex) | (headers or {})
        )

    async def send_bytes(
        self, path: str, data: bytes, content_type: str, params: dict[str, str] | None = None
    ) -> httpx.Response:
        """A POST of a raw body (a CSV file), as a script sends it; the raw answer."""
        client = self._clients[next(self._next)]
        return await client.post(
            path,
            content=data,
            params=params,
            headers=self._headers("POST", uuid.uuid4().hex) | {"content-type": content_type},
            timeout=120,
        )

    async def events(self, *, last_event_id: str | None = None) -> AsyncIterator[dict[str, Any]]:
        """The live event stream (GET /v1/events/stream): {"id", "event", "data"} per event."""
        headers = self._headers("GET", None) | ({"Last-Event-ID": last_event_id} if last_event_id else {})
        async with self._clients[0].stream(
            "GET", "/v1/events/stream", headers=headers, timeout=httpx.Timeout(30, read=None)
        ) as response:
            if response.status_code != 200:
                raise ApiError("GET", "/v1/events/stream", response.status_code, await response.aread())
            message: dict[str, Any] = {}
            async for line in response.aiter_lines():
                if not line:
                    if "data" in message:
                        yield message | {"data": _json_or_text(message["data"])}
                    message = {}
                elif not line.startswith(":") and ":" in line:
                    name, value = line.split(":", 1)
                    message[name] = value.removeprefix(" ")


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _in_progress(body: Any) -> bool:
    return isinstance(body, dict) and "in progress" in str(body.get("title", "")).lower()


def _wait_for(response: httpx.Response, attempt: int) -> float:
    retry_after = response.headers.get("Retry-After")
    if retry_after and retry_after.replace(".", "", 1).isdigit():
        return min(10.0, float(retry_after))
    return min(2.0, 0.2 * attempt)


# -- people, brands, accounts --------------------------------------------------------------------
@dataclass
class Member:
    user_id: str
    email: str
    role: str
    api: Gateway  # calls as this member


@dataclass
class BrandSetup:
    """A brand with an owner, a client who approves, and (once connected) a sandbox account."""

    tenant_id: str
    brand_id: str
    name: str
    owner: Member
    client: Member | None = None
    connection: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def connection_id(self) -> str:
        assert self.connection is not None, "no sandbox account connected yet"
        return self.connection["id"]


async def dev_token(
    api: Gateway,
    *,
    user_id: str,
    tenant_id: str,
    brand_ids: list[str] | None = None,
    role: str = "owner",
    email: str | None = None,
    ttl_s: int | None = None,
) -> str:
    body: dict[str, Any] = {
        "sub": user_id,
        "tenant_id": tenant_id,
        "brand_ids": brand_ids or [],
        "role": role,
        "email": email,
    }
    if ttl_s:
        body["ttl_s"] = ttl_s
    answer = await api.request("POST", "/v1/dev/token", json_body=body)
    return answer["access_token"]


async def create_brand(
    api: Gateway, *, tenant_id: str, name: str, owner_id: str, owner_email: str, ttl_s: int | None = None
) -> BrandSetup:
    """A new brand whose owner is `owner_id` (POST /v1/brands with a tenant-level token)."""
    tenant_token = await dev_token(api, user_id=owner_id, tenant_id=tenant_id, email=owner_email)
    brand = await api.as_(tenant_token).post("/v1/brands", {"name": name})
    return await brand_of(api, tenant_id, brand, owner_id, owner_email, ttl_s=ttl_s)


async def brand_of(
    api: Gateway,
    tenant_id: str,
    brand: dict[str, Any],
    owner_id: str,
    owner_email: str,
    ttl_s: int | None = None,
) -> BrandSetup:
    token = await dev_token(
        api,
        user_id=owner_id,
        tenant_id=tenant_id,
        brand_ids=[str(brand["brand_id"])],
        email=owner_email,
        ttl_s=ttl_s,
    )
    owner = Member(owner_id, owner_email, "owner", api.as_(token))
    return BrandSetup(tenant_id, str(brand["brand_id"]), brand["name"], owner)


async def add_member(
    setup: BrandSetup, *, user_id: str, email: str, role: str, ttl_s: int | None = None
) -> Member:
    """Invite by e-mail as the owner, accept as the invitee (POST /v1/invites, /v1/invites/accept)."""
    invite = await setup.owner.api.post("/v1/invites", {"email": email, "role": role})
    token = await dev_token(
        setup.owner.api,
        user_id=user_id,
        tenant_id=setup.tenant_id,
        brand_ids=[setup.brand_id],
        role=role,
        email=email,
        ttl_s=ttl_s,
    )
    member = Member(user_id, email, role, setup.owner.api.as_(token))
    await member.api.post("/v1/invites/accept", {"token": invite["token"]})
    return member


async def member_token(setup: BrandSetup, member: Member, ttl_s: int | None = None) -> Member:
    """A fresh token for an existing member (tokens are short-lived)."""
    token = await dev_token(
        setup.owner.api,
        user_id=member.user_id,
        tenant_id=setup.tenant_id,
        brand_ids=[setup.brand_id],
        role=member.role,
        email=member.email,
        ttl_s=ttl_s,
    )
    return Member(member.user_id, member.email, member.role, member.api.as_(token))


async def connect_sandbox(owner: Gateway, sandbox_url: str, account: str) -> dict[str, Any]:
    """OAuth as a user would: start at the gateway, consent at the platform (auto-approved),
    and hand the code and state from the redirect back to the gateway."""
    started = await owner.post("/v1/connections/oauth/sandbox/start", {"redirect_uri": REDIRECT_URI})
    query = urllib.parse.urlencode({"auto_approve": 1, "account": account})
    async with httpx.AsyncClient(timeout=30) as browser:
        consent = await browser.get(f"{started['authorization_url']}&{query}", follow_redirects=False)
    if consent.status_code != 302:
        raise ApiError("GET", "/oauth/authorize", consent.status_code, consent.text)
    redirect = urllib.parse.urlparse(consent.headers["location"])
    params = dict(urllib.parse.parse_qsl(redirect.query))
    answer = await owner.post(
        "/v1/connections/oauth/sandbox/callback", {"code": params["code"], "state": params["state"]}
    )
    return answer["connection"]


# -- the sandbox platform's control API ----------------------------------------------------------
class SandboxControl:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._client = httpx.AsyncClient(base_url=base_url, timeout=30)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = await self._client.request(method, path, json=body)
        if response.status_code >= 400:
            raise ApiError(method, path, response.status_code, _body(response))
        return _body(response)

    async def add_fault(self, **spec: Any) -> str:
        return (await self._call("POST", "/_control/faults", spec))["id"]

    async def clear_faults(self) -> None:
        await self._call("DELETE", "/_control/faults")

    async def faults(self) -> list[dict[str, Any]]:
        """The rules still active, each with `remaining` (None: unlimited)."""
        return await self._call("GET", "/_control/faults")

    async def counts(self) -> dict[str, Any]:
        """Creations per idempotency key, post id and text: above 1 is a duplicate post."""
        return await self._call("GET", "/_control/posts/counts")

    async def post(self, post_id: str) -> dict[str, Any]:
        """A post as the platform holds it, with every media item it received (type, size, sha256)."""
        return await self._call("GET", f"/_control/posts/{post_id}")

    async def configure(self, **changes: Any) -> dict[str, Any]:
        return await self._call("POST", "/_control/config", changes)

    async def advance_clock(self, seconds: float) -> None:
        await self._call("POST", "/_control/clock/advance", {"seconds": seconds})

    async def send_webhook(self, **event: Any) -> dict[str, Any]:
        """Makes the platform send a signed webhook to the configured URL (the gateway)."""
        return await self._call("POST", "/_control/webhooks/send", event)

    async def comment(self, post_id: str, text: str, **fields: Any) -> dict[str, Any]:
        """Someone comments on a post (kind="mention" to mention the account); sent by webhook too."""
        return await self._call("POST", f"/_control/posts/{post_id}/comments", {"text": text, **fields})

    async def review(self, account_id: str, rating: int, text: str, **fields: Any) -> dict[str, Any]:
        """Someone reviews the account; sent by webhook too."""
        body = {"rating": rating, "text": text, **fields}
        return await self._call("POST", f"/_control/accounts/{account_id}/reviews", body)

    async def comments(self, post_id: str) -> list[dict[str, Any]]:
        """Everything on a post, the account's replies included."""
        return (await self._call("GET", f"/_control/posts/{post_id}/comments"))["items"]

    async def reply_counts(self) -> dict[str, int]:
        """How many replies each comment or review got: above 1 is a duplicate reply."""
        return await self._call("GET", "/_control/replies/counts")

    # -- feeds the outside world publishes (RSS/Atom auto-posting)
    async def make_feed(self, name: str, format: str = "rss") -> str:
        """A feed (empty); returns its URL."""
        state = await self._call("PUT", f"/_control/feeds/{name}", {"format": format})
        return f"{self.base_url}{state['path']}"

    async def publish_entry(self, name: str, **entry: Any) -> dict[str, Any]:
        """An entry appears in the feed (guid, link, title, summary)."""
        return await self._call("POST", f"/_control/feeds/{name}/entries", entry)

    async def touch_feed(self, name: str) -> dict[str, Any]:
        """A new body and ETag, the same entries."""
        return await self._call("POST", f"/_control/feeds/{name}/touch")

    async def feed_answers(self, name: str, answer: str, status: int = 500) -> dict[str, Any]:
        """What the feed answers from now on: feed, error (with status), garbage or huge."""
        return await self._call("PUT", f"/_control/feeds/{name}/answer", {"answer": answer, "status": status})

    async def feed_state(self, name: str) -> dict[str, Any]:
        """The feed's entries count, ETag and the requests it served by answer ("200", "304"...)."""
        return await self._call("GET", f"/_control/feeds/{name}")


# -- waiting -----------------------------------------------------------------------------------
async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout_s: float, interval_s: float = 0.5, what: str = "condition"
) -> Any:
    """`polling.eventually` for checks through the gateway: its errors and a dropped connection
    count as "not yet" (a service may be restarting)."""
    return await polling.eventually(
        check,
        timeout_s=timeout_s,
        interval_s=interval_s,
        what=what,
        tolerate=(ApiError, httpx.TransportError),
    )


# -- a brand's own webhook receiver ----------------------------------------------------------------
@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    def signed_by(self, secret: str) -> bool:
        """Standard Webhooks: any `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` matches."""
        key = base64.b64decode(secret.removeprefix("whsec_"))
        signed = f"{self.headers['webhook-id']}.{self.headers['webhook-timestamp']}.".encode() + self.body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        given = [
            s.split(",", 1)[1]
            for s in self.headers.get("webhook-signature", "").split()
            if s.startswith("v1,")
        ]
        return any(hmac.compare_digest(expected, candidate) for candidate in given)


class LiveEvents:
    """Follows GET /v1/events/stream for one caller and keeps every event (the envelopes).

    `on_event` sees each stream message as it arrives (the demo prints them)."""

    def __init__(self, api: Gateway, on_event: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.api = api
        self.envelopes: list[dict[str, Any]] = []
        self._on_event = on_event
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> LiveEvents:
        self._task = asyncio.create_task(self._follow())
        await asyncio.sleep(0.5)  # the stream subscribes before its first event; give it a moment
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    async def _follow(self) -> None:
        async for message in self.api.events():
            if isinstance(message["data"], dict):
                self.envelopes.append(message["data"])
            if self._on_event is not None:
                self._on_event(message)

    def of_type(self, event_type: str, **data: Any) -> list[dict[str, Any]]:
        return [
            e
            for e in self.envelopes
            if e.get("type") == event_type
            and all(str(e.get("data", {}).get(k)) == str(v) for k, v in data.items())
        ]

    async def wait_for(self, event_type: str, *, timeout_s: float = 60, **data: Any) -> dict[str, Any]:
        async def seen():
            found = self.of_type(event_type, **data)
            return found[0] if found else None

        return await eventually(
            seen, timeout_s=timeout_s, interval_s=0.2, what=f"{event_type} {data} on the live stream"
        )


class WebhookReceiver:
    """An HTTP endpoint a brand registers for outbound webhooks; answers 204 and keeps what came."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def _app(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.deliveries.append(Delivery(headers, b"".join(chunks)))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def __aenter__(self) -> WebhookReceiver:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        config = uvicorn.Config(
            self._app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            interface="asgi3",
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.05)
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
