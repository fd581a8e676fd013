"""A fake social platform (OAuth 2 + PKCE, posts, metrics, rate limits, faults, signed webhooks)
so that Aligned runs and is tested end to end with no outside network."""

from aligned_sandbox.app import create_app
from aligned_sandbox.config import SandboxConfig

__all__ = ["SandboxConfig", "create_app"]
