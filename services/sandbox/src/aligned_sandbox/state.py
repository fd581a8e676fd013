"""The whole fake world of one sandbox process, rebuilt from scratch by POST /_control/reset."""

from __future__ import annotations

import httpx

from aligned_sandbox.accounts import AccountDirectory
from aligned_sandbox.clock import Clock
from aligned_sandbox.comments_store import EngagementStore
from aligned_sandbox.config import SandboxConfig
from aligned_sandbox.faults import FaultInjector
from aligned_sandbox.feeds import FeedStore
from aligned_sandbox.oauth import OAuthServer
from aligned_sandbox.posts import PostStore
from aligned_sandbox.rate_limit import RateLimiter
from aligned_sandbox.webhooks import WebhookDispatcher


class Sandbox:
    def __init__(self, config: SandboxConfig, webhook_client: httpx.AsyncClient) -> None:
        self._initial_config = config
        self._webhook_client = webhook_client
        self.reset()

    def reset(self) -> None:
        self.config = self._initial_config
        self.clock = Clock()
        self.accounts = AccountDirectory()
        self.oauth = OAuthServer(lambda: self.config)
        self.posts = PostStore()
        self.rate_limiter = RateLimiter()
        self.faults = FaultInjector()
        self.webhooks = WebhookDispatcher(lambda: self.config, self.clock, self._webhook_client)
        self.engagement = EngagementStore()
        self.feeds = FeedStore()

    def configure(self, changes: dict[str, object]) -> SandboxConfig:
        self.config = self.config.updated(changes)
        return self.config
