"""How `make up` runs the platform on one machine, and what the end-to-end tests' launcher
(aligned_testing.system) runs it with too: each service's environment (where the
infrastructure is, where each service listens, who calls whom), make up's fixed ports, and
the development secrets kept in .local/secrets.env.

A runtime module, not a test helper: deploy/local/services.sh reads the environment with
`python -m aligned_common.localrun env`, and deploy/local/demo.py finds the gateway with
`local_ports()`. Only the standard library, so it runs before anything else is up.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parents[4]
LOCAL_DIR = Path(os.environ.get("ALIGNED_LOCAL_DIR", REPO_ROOT / ".local"))
SECRETS_FILE = LOCAL_DIR / "secrets.env"
# pid files of `make up`'s services (deploy/local/services.sh)
LOCAL_RUN_DIR = LOCAL_DIR / "run"
# make up's fixed ports, so the demo and a developer's bookmarks do not move (local_ports()).
LOCAL_PORTS = {
    "gateway": 8000,
    "publishing": 8101,
    "approval": 8102,
    "connections": 8103,
    "analytics": 8104,
    "webhooks": 8105,
    "engagement": 8106,
    "brandkit": 8107,
    "sandbox": 18080,
}
UPSTREAMS = ("publishing", "approval", "connections", "analytics", "webhooks", "engagement", "brandkit")
# Each service logs in as a role of its own that owns nothing and cannot bypass row-level
# security (ADR 0004); migrations run as the database's owner. deploy/local/postgres.sh makes
# these roles for make up; start_system makes them on a cluster that script did not start.
DATABASE_SERVICES = (
    "publishing",
    "approval",
    "connections",
    "analytics",
    "webhooks",
    "gateway",
    "engagement",
    "brandkit",
)
LOCAL_LOGIN_PASSWORD = "aligned"


def login_url(owner_url: str, role: str) -> str:
    """The owner's URL with the service's login role and its local password."""
    parts = urlsplit(owner_url)
    host = parts.hostname or ""
    netloc = f"{role}:{LOCAL_LOGIN_PASSWORD}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# Settings that make a run on one machine pleasant to watch: metrics are fetched seconds after
# a post goes out instead of ten minutes, outbound webhooks may go to a local receiver, and feeds
# may be polled every second from a local server (the sandbox's feeds), never by default.
LOCAL_SETTINGS = {
    "ALIGNED_ANALYTICS_FIRST_POST_SYNC_DELAY_S": "3",
    "ALIGNED_ANALYTICS_SCHEDULER_TICK_S": "1",
    "ALIGNED_CONNECTIONS_ENGAGEMENT_POLL_INTERVAL_S": "10",
    "ALIGNED_WEBHOOKS_ALLOW_LOOPBACK_TARGETS": "true",
    "ALIGNED_WEBHOOKS_ALLOW_HTTP_TARGETS": "true",
    "ALIGNED_PUBLISHING_FEED_ALLOW_LOOPBACK_TARGETS": "true",
    "ALIGNED_PUBLISHING_FEED_ALLOW_HTTP_TARGETS": "true",
    "ALIGNED_PUBLISHING_FEED_MIN_INTERVAL_S": "1",
    "ALIGNED_PUBLISHING_FEED_POLL_TICK_S": "0.5",
    "ALIGNED_PUBLISHING_FEED_BACKOFF_BASE_S": "2",
    "ALIGNED_GATEWAY_DEV_TOKENS_ENABLED": "true",
}


@dataclass(frozen=True)
class ObjectStoreLocation:
    """An S3-compatible store: s3proxy from deploy/local, or a container."""

    endpoint_url: str
    bucket: str
    access_key_id: str
    secret_access_key: str

    def env(self) -> dict[str, str]:
        """How services (and the tests' in-process ones) are told where it is."""
        return {
            "ALIGNED_S3_ENDPOINT_URL": self.endpoint_url,
            "ALIGNED_S3_BUCKET": self.bucket,
            "ALIGNED_S3_ACCESS_KEY_ID": self.access_key_id,
            "ALIGNED_S3_SECRET_ACCESS_KEY": self.secret_access_key,
        }


def local_object_store() -> ObjectStoreLocation:
    """deploy/local/s3proxy.sh's store, with the same defaults and overrides."""
    return ObjectStoreLocation(
        endpoint_url=os.environ.get("ALIGNED_S3_ENDPOINT_URL")
        or f"http://127.0.0.1:{os.environ.get('ALIGNED_S3_PORT', '19900')}",
        bucket=os.environ.get("ALIGNED_S3_BUCKET", "aligned-media"),
        access_key_id=os.environ.get("ALIGNED_S3_ACCESS_KEY_ID", "aligned"),
        secret_access_key=os.environ.get("ALIGNED_S3_SECRET_ACCESS_KEY", "aligned-local-secret"),
    )


@dataclass(frozen=True)
class MailServer:
    """Where the platform's outgoing mail goes (SMTP) and where it is read back (Mailpit's HTTP
    API and web mailbox): deploy/local/mailpit.sh, or Mailpit's image."""

    smtp_host: str
    smtp_port: int
    api_url: str

    def env(self) -> dict[str, str]:
        """How the services that send mail (approval) are pointed at it."""
        return {
            "ALIGNED_APPROVAL_SMTP_HOST": self.smtp_host,
            "ALIGNED_APPROVAL_SMTP_PORT": str(self.smtp_port),
        }


def local_mail_server() -> MailServer:
    """deploy/local/mailpit.sh's server, with the same defaults and overrides."""
    return MailServer(
        smtp_host="127.0.0.1",
        smtp_port=int(os.environ.get("ALIGNED_SMTP_PORT", "19025")),
        api_url=f"http://127.0.0.1:{os.environ.get('ALIGNED_MAILPIT_HTTP_PORT', '19825')}",
    )


# -- development secrets ---------------------------------------------------------------------------
def _new_secrets() -> dict[str, str]:
    def b64(n: int) -> str:
        return base64.b64encode(secrets.token_bytes(n)).decode()

    return {
        "ALIGNED_INTERNAL_SECRET": secrets.token_hex(32),
        "ALIGNED_APPROVAL_LINK_SECRET": secrets.token_hex(32),
        "ALIGNED_CONNECTIONS_ENCRYPTION_KEYS": json.dumps({"k1": b64(32)}),
        "ALIGNED_CONNECTIONS_ACTIVE_KEY_ID": "k1",
        "ALIGNED_CONNECTIONS_STATE_SECRET": secrets.token_hex(32),
        "ALIGNED_WEBHOOKS_ENCRYPTION_KEY": b64(32),
        "ALIGNED_WEBHOOKS_SANDBOX_SECRET": "whsec_" + b64(24),
        "ALIGNED_GATEWAY_JWT_SECRET": secrets.token_hex(32),
    }


def ensure_secrets_file(path: Path = SECRETS_FILE) -> dict[str, str]:
    """Development secrets, made once per checkout in .local/ (gitignored) and then kept.

    make up and the end-to-end tests share the one local database, so they share these
    too: a token sealed by one run must open in the next (a fresh key per run would leave
    the previous runs' rows unreadable, and the services would log about them for ever).
    """
    existing = _read_exports(path) if path.exists() else {}
    missing = {k: v for k, v in _new_secrets().items() if k not in existing}
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a") as out:
            out.writelines(f"export {k}={shlex.quote(v)}\n" for k, v in missing.items())
    return existing | missing


def _read_exports(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, value = words[1].split("=", 1)
            values[key] = value
    return values


# -- wiring ------------------------------------------------------------------------------------
def wiring(
    ports: dict[str, int],
    secret_values: dict[str, str],
    database_url: str,
    kafka_bootstrap: str,
    object_store: ObjectStoreLocation | None = None,
    mail: MailServer | None = None,
) -> dict[str, str]:
    """The env every process of one platform gets: where the infrastructure is, where each
    service listens (each reads only its own ALIGNED_<NAME>_HTTP_PORT) and who calls whom."""
    env = dict(secret_values)
    env["ALIGNED_DATABASE_URL"] = database_url
    env["ALIGNED_MIGRATION_DATABASE_URL"] = database_url
    for name in DATABASE_SERVICES:
        if name in ports:
            env[f"ALIGNED_{name.upper()}_DATABASE_URL"] = login_url(database_url, name)
    env["ALIGNED_KAFKA_BOOTSTRAP"] = kafka_bootstrap
    # Media bytes: only publishing holds the store's credentials (connections gets presigned URLs).
    for key, value in (object_store or local_object_store()).env().items():
        env[key.replace("ALIGNED_S3_", "ALIGNED_PUBLISHING_S3_")] = value
    if "approval" in ports:  # the one service that sends mail: to the recipients' server (Mailpit)
        env.update((mail or local_mail_server()).env())
    for name, port in ports.items():
        env[f"ALIGNED_{name.upper()}_HTTP_PORT"] = str(port)
    for name in UPSTREAMS:
        if name in ports:
            env[f"ALIGNED_GATEWAY_{name.upper()}_URL"] = f"http://127.0.0.1:{ports[name]}"
    if "gateway" in ports:
        gateway = f"http://127.0.0.1:{ports['gateway']}"
        env["ALIGNED_GATEWAY_PUBLIC_BASE_URL"] = gateway
        env["ALIGNED_PUBLIC_BASE_URL"] = (
            gateway  # once for the platform: every link in a mail points at the gateway
        )
        # The tests stand where the Ingress would: their X-Forwarded-For names the client.
        env["ALIGNED_GATEWAY_TRUSTED_PROXIES"] = "127.0.0.1"
        # The sandbox posts its webhooks where a real platform would: the public inbound route.
        env["ALIGNED_SANDBOX_WEBHOOK_URL"] = f"{gateway}/webhooks/sandbox"
    if "sandbox" in ports:
        sandbox = f"http://127.0.0.1:{ports['sandbox']}"
        env["ALIGNED_SANDBOX_URL"] = sandbox
        env["ALIGNED_CONNECTIONS_SANDBOX_URL"] = sandbox
    # One webhook secret, known to the platform that signs and to the services that verify.
    webhook_secret = secret_values["ALIGNED_WEBHOOKS_SANDBOX_SECRET"]
    env["ALIGNED_SANDBOX_WEBHOOK_SECRET"] = webhook_secret
    env["ALIGNED_CONNECTIONS_SANDBOX_WEBHOOK_SECRETS"] = json.dumps([webhook_secret])
    env.update(LOCAL_SETTINGS)
    return env


def local_ports() -> dict[str, int]:
    """make up's ports: LOCAL_PORTS, all shifted by ALIGNED_LOCAL_PORT_OFFSET (a second checkout's
    make up beside the first one), one moved by its ALIGNED_<NAME>_HTTP_PORT."""
    offset = int(os.environ.get("ALIGNED_LOCAL_PORT_OFFSET") or 0)
    return {
        name: int(os.environ.get(f"ALIGNED_{name.upper()}_HTTP_PORT") or port + offset)
        for name, port in LOCAL_PORTS.items()
    }


def local_env() -> dict[str, str]:
    """make up's wiring: fixed ports, the local infrastructure, the kept secrets."""
    pg_port = os.environ.get("ALIGNED_PG_PORT", "15432")
    kafka_port = os.environ.get("ALIGNED_KAFKA_PORT", "19092")
    return wiring(
        local_ports(),
        ensure_secrets_file(),
        f"postgresql://aligned:aligned@127.0.0.1:{pg_port}/aligned",
        f"127.0.0.1:{kafka_port}",
    )


def _print_local_env() -> None:
    for key, value in sorted(local_env().items()):
        print(f"export {key}={shlex.quote(value)}")


if __name__ == "__main__":
    if sys.argv[1:] == ["env"]:
        _print_local_env()
    else:
        print("usage: python -m aligned_common.localrun env", file=sys.stderr)
        sys.exit(2)
