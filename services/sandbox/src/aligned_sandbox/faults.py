"""Failures a test asks for: the next N matching requests, or a share of them at random."""

from __future__ import annotations

import random
import secrets
import threading
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FaultMode(StrEnum):
    ERROR_500 = "error_500"
    ERROR_401 = "error_401"
    ERROR_429 = "error_429"
    # The request is carried out (a post IS created), then the answer is held back for delay_s,
    # longer than the client waits: the client cannot know whether its request took effect.
    TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"
    SLOW = "slow"  # wait delay_s, then carry out the request and answer normally


class FaultSpec(BaseModel):
    """Either `mode` (the next `count` matching requests fail), or `fail_ratio` with `modes`
    (each matching request fails with that probability, in one of the modes, up to `count`)."""

    model_config = ConfigDict(extra="forbid")

    mode: FaultMode | None = None
    count: int | None = Field(default=None, ge=1, description="default 1 for `mode`, unlimited for a ratio")
    fail_ratio: float | None = Field(default=None, gt=0, le=1)
    modes: list[FaultMode] | None = Field(default=None, min_length=1)
    endpoint: str | None = Field(default=None, description="path prefix, e.g. /api/v1/posts")
    method: str | None = Field(default=None, description="e.g. POST; any method when left out")
    delay_s: float = Field(default=5.0, ge=0)
    retry_after_s: int = Field(default=1, ge=0, description="Retry-After of error_429")
    seed: int | None = Field(default=None, description="makes a fail_ratio rule repeatable")

    @model_validator(mode="after")
    def _one_kind_of_rule(self) -> FaultSpec:
        deterministic = self.mode is not None
        probabilistic = self.fail_ratio is not None or self.modes is not None
        if deterministic == probabilistic:
            raise ValueError("give either mode, or fail_ratio with modes")
        if probabilistic and (self.fail_ratio is None or not self.modes):
            raise ValueError("fail_ratio and modes go together")
        return self


@dataclass(frozen=True)
class Fault:
    """What to do to one request."""

    mode: FaultMode
    delay_s: float
    retry_after_s: int


class _Rule:
    def __init__(self, spec: FaultSpec) -> None:
        self.id = "fault_" + secrets.token_hex(4)
        self.spec = spec
        self.remaining = spec.count if spec.count is not None else (1 if spec.mode else None)
        self._draw = random.Random(spec.seed)

    def matches(self, method: str, path: str) -> bool:
        if self.spec.endpoint is not None and not path.startswith(self.spec.endpoint):
            return False
        return self.spec.method is None or self.spec.method.upper() == method.upper()

    def fire(self) -> Fault | None:
        mode = self.spec.mode
        if mode is None:
            assert self.spec.fail_ratio is not None and self.spec.modes
            if self._draw.random() >= self.spec.fail_ratio:
                return None
            mode = self._draw.choice(self.spec.modes)
        if self.remaining is not None:
            self.remaining -= 1
        return Fault(mode, self.spec.delay_s, self.spec.retry_after_s)

    @property
    def spent(self) -> bool:
        return self.remaining == 0


class FaultInjector:
    def __init__(self) -> None:
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()

    def add(self, spec: FaultSpec) -> str:
        rule = _Rule(spec)
        with self._lock:
            self._rules.append(rule)
        return rule.id

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def active(self) -> list[dict[str, object]]:
        with self._lock:
            return [
                {"id": rule.id, "remaining": rule.remaining, **rule.spec.model_dump(exclude_none=True)}
                for rule in self._rules
            ]

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if a rule fires; the first matching rule decides."""
        with self._lock:
            rule = next((rule for rule in self._rules if rule.matches(method, path)), None)
            if rule is None:
                return None
            fault = rule.fire()
            if rule.spent:
                self._rules.remove(rule)
            return fault
