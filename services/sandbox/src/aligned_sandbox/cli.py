"""`aligned-sandbox serve --port 18080` (or `python -m aligned_sandbox serve`)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

import uvicorn

from aligned_sandbox.app import create_app
from aligned_sandbox.config import SandboxConfig


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aligned-sandbox", description="A fake social platform for tests.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the sandbox HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=18080)
    serve.add_argument("--token-ttl-s", type=float, default=SandboxConfig().token_ttl_s)
    serve.add_argument("--rotate-refresh-tokens", action="store_true")
    serve.add_argument("--webhook-url", default=os.environ.get("ALIGNED_SANDBOX_WEBHOOK_URL"))
    # From the environment by default, so that the secret does not show in the process list.
    serve.add_argument("--webhook-secret", default=os.environ.get("ALIGNED_SANDBOX_WEBHOOK_SECRET"))
    serve.add_argument("--webhooks-on-publish", action="store_true")
    serve.add_argument("--log-level", default="info")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    config = SandboxConfig(
        token_ttl_s=args.token_ttl_s,
        rotate_refresh_tokens=args.rotate_refresh_tokens,
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        webhooks_on_publish=args.webhooks_on_publish,
    )
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level=args.log_level)
