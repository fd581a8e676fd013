"""A platform made of recorded answers, for adapters' fixture tests through httpx.MockTransport.

Answers are given per (method, path) in order; the last one repeats. An exception instance is
raised instead of answered (a timeout: the request was sent and its answer lost). Every request
is kept, so that a test can say what was sent, and how often (never a second post).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

import httpx

Answer = httpx.Response | Exception


class FakePlatform:
    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], list[Answer]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *answers: Answer) -> FakePlatform:
        self._answers.setdefault((method, path), []).extend(answers)
        return self

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def handle(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        answers = self._answers.get((request.method, request.url.path))
        if not answers:
            return httpx.Response(599, text=f"no fixture for {request.method} {request.url.path}")
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(self.handle)) as client:
            yield client


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def form_of(request: httpx.Request) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(request.content.decode()).items()}


def json_of(request: httpx.Request) -> dict[str, object]:
    body: dict[str, object] = json.loads(request.content)
    return body


def lost() -> httpx.ReadTimeout:
    """Sent, answer lost."""
    return httpx.ReadTimeout("the platform did not answer in time")
