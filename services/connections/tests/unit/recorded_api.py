"""A platform API played back from recorded answers, through httpx.MockTransport.

Each route (method and URL without its query) answers from its queue, in order; the last
answer repeats. An answer is a response, an exception (the transport raises it: a lost
answer), or a function of the request. Every request is kept, so a test can assert what was
sent and, above all, what was not sent twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def graph_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    status: int = 400,
    user_msg: str | None = None,
    **extra: Any,
) -> httpx.Response:
    """An error body as the Graph API documents it (docs/graph-api/guides/error-handling)."""
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEf",
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    if user_msg is not None:
        error["error_user_msg"] = user_msg
    return httpx.Response(status, json={"error": error}, headers=extra.get("headers"))


@dataclass
class RecordedApi:
    routes: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, url: str, *answers: Answer) -> None:
        self.routes[(method, url)] = list(answers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        key = (request.method, str(request.url.copy_with(query=None)))
        queue = self.routes.get(key)
        if not queue:
            return httpx.Response(404, json={"error": {"message": f"no route {key}", "code": 803}})
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    def sent(self, method: str, url: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and str(r.url.copy_with(query=None)) == url]


def form(request: httpx.Request) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(request.content.decode()).items()}


def query(request: httpx.Request) -> dict[str, str]:
    return dict(request.url.params)


def body_json(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def no_sleep(_: float) -> None:
    return None
