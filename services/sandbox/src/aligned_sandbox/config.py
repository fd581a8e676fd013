"""The sandbox's behaviour knobs, changed at run time through POST /_control/config."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class SandboxConfig(BaseModel):
    # Unknown keys are refused, so a test that misspells a knob fails instead of silently not
    # configuring anything.
    model_config = ConfigDict(frozen=True, extra="forbid")

    token_ttl_s: float = Field(default=300, gt=0, description="lifetime of an access token")
    authorization_code_ttl_s: float = Field(default=60, gt=0)
    # Off by default: a refresh answer then carries no refresh_token, and a correct client keeps
    # the one it has (RFC 6749 section 6). On: every refresh returns a new one and kills the old.
    rotate_refresh_tokens: bool = False
    rate_limit_capacity: int = Field(default=600, ge=1, description="burst size per account")
    rate_limit_refill_per_s: float = Field(default=10, gt=0)
    # None: an idempotency key is remembered for ever. A number imitates platforms that forget
    # keys (Mastodon keeps them an hour), so a blind late retry does create a duplicate.
    idempotency_window_s: float | None = Field(default=None, gt=0)
    webhook_url: str | None = None
    webhook_secret: str | None = Field(default=None, description="whsec_<base64>")
    webhooks_on_publish: bool = Field(
        default=False, description="send post.status_changed (published) after every new post"
    )

    @field_validator("webhook_secret")
    @classmethod
    def _standard_webhooks_secret(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            key = base64.b64decode(value.removeprefix("whsec_"), validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError("webhook_secret must be whsec_<base64>") from error
        if not key:
            raise ValueError("webhook_secret may not be empty")
        return value

    def updated(self, changes: dict[str, Any]) -> SandboxConfig:
        return SandboxConfig.model_validate(self.model_dump() | changes)
