"""Request helpers shared by the routers."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from fastapi import Request

from aligned_sandbox.errors import SandboxError
from aligned_sandbox.state import Sandbox


def get_sandbox(request: Request) -> Sandbox:
    return request.app.state.sandbox


async def read_fields(request: Request) -> dict[str, str]:
    """Form fields (what OAuth specifies) or, for convenience, a flat JSON object."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            parsed = json.loads(body or b"{}")
        except json.JSONDecodeError as error:
            raise SandboxError(400, "invalid_request", f"body is not JSON: {error}") from error
        if not isinstance(parsed, dict):
            raise SandboxError(400, "invalid_request", "body must be a JSON object")
        return {key: str(value) for key, value in parsed.items() if value is not None}
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
