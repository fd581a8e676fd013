"""The whole platform as separate processes, for end-to-end and fault tests and benchmarks.

Every service under services/ (and the sandbox platform) runs as its own OS process on a
free port, against the real Kafka and PostgreSQL, with development secrets generated for
the run. A test can kill -9 a service and start it again, exactly as an operator's
Kubernetes would.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from aligned_common.testing.infra import REPO_ROOT, Infra
from aligned_common.testing.service import free_port

SERVICES_DIR = REPO_ROOT / "services"
# The order services start in: the sandbox first (connections calls it), the gateway last.
START_ORDER = ("sandbox", "connections", "publishing", "approval", "analytics", "webhooks", "gateway")


def discover_services() -> list[str]:
    found = [p.name for p in SERVICES_DIR.iterdir() if (p / "src" / f"aligned_{p.name}" / "__main__.py").exists()]
    return sorted(found, key=lambda n: START_ORDER.index(n) if n in START_ORDER else len(START_ORDER))


def development_secrets() -> dict[str, str]:
    """Fresh secrets for one run; never written to the repository."""
    return {
        "ALIGNED_INTERNAL_SECRET": secrets.token_hex(32),
        "ALIGNED_APPROVAL_LINK_SECRET": secrets.token_hex(32),
        "ALIGNED_CONNECTIONS_ENCRYPTION_KEYS": json.dumps({"k1": base64.b64encode(secrets.token_bytes(32)).decode()}),
        "ALIGNED_CONNECTIONS_ACTIVE_KEY_ID": "k1",
        "ALIGNED_CONNECTIONS_STATE_SECRET": secrets.token_hex(32),
        "ALIGNED_WEBHOOKS_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ALIGNED_WEBHOOKS_SANDBOX_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        "ALIGNED_GATEWAY_JWT_SECRET": secrets.token_hex(32),
    }


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.name == "sandbox":
            return [sys.executable, "-m", "aligned_sandbox", "serve", "--port", str(self.port)]
        return [sys.executable, "-m", f"aligned_{self.name}", "serve"]

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.command(), env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def wait_healthy(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not become healthy; see {self.log_path}")

    def kill(self) -> None:
        """kill -9: no graceful shutdown, in-flight work is lost mid-way."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class System:
    infra: Infra
    log_dir: Path
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=development_secrets)

    def url(self, name: str) -> str:
        return self.services[name].url

    def base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALIGNED_") or k in ("ALIGNED_TEST_INFRA",)}
        env.update(self.secrets)
        env["ALIGNED_DATABASE_URL"] = self.infra.database_url
        env["ALIGNED_KAFKA_BOOTSTRAP"] = self.infra.kafka_bootstrap
        return env

    def plan(self, names: list[str]) -> None:
        ports = {name: free_port() for name in names}
        env = self.base_env()
        for name, port in ports.items():
            env[f"ALIGNED_{name.upper()}_HTTP_PORT"] = str(port)
            env[f"ALIGNED_GATEWAY_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"
        if "sandbox" in ports:
            env["ALIGNED_SANDBOX_URL"] = f"http://127.0.0.1:{ports['sandbox']}"
            env["ALIGNED_CONNECTIONS_SANDBOX_URL"] = env["ALIGNED_SANDBOX_URL"]
        env["ALIGNED_GATEWAY_DEV_TOKENS_ENABLED"] = "true"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name, port in ports.items():
            self.services[name] = ServiceProcess(name, port, dict(env), self.log_dir / f"{name}.log")

    def migrate(self) -> None:
        for name in self.services:
            if name == "sandbox":
                continue
            subprocess.run([sys.executable, "-m", f"aligned_{name}", "migrate"], env=self.services[name].env,
                           check=True, capture_output=True, timeout=300)

    def start(self) -> None:
        for service in self.services.values():
            service.start()
        for service in self.services.values():
            service.wait_healthy()

    def restart(self, name: str, *, hard: bool = True) -> None:
        service = self.services[name]
        service.kill() if hard else service.stop()
        service.start()
        service.wait_healthy()

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()


def start_system(infra: Infra, log_dir: Path, names: list[str] | None = None) -> System:
    system = System(infra=infra, log_dir=log_dir)
    system.plan(names or discover_services())
    system.migrate()
    try:
        system.start()
    except BaseException:
        system.stop()
        raise
    return system
