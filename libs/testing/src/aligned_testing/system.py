"""The whole platform as separate processes, for end-to-end and fault tests and benchmarks.

Every service under services/ (and the sandbox platform) runs as its own OS process on a
free port, against the real Kafka and PostgreSQL. A test can kill -9 a service and start
it again, exactly as an operator's Kubernetes would, and can run two processes of each
service to check that replicas share the work without doing it twice.

The wiring between the processes (which env variable of which service points where) is
written once, in aligned_common.localrun's `wiring()`; `deploy/local/services.sh` (make up)
reads the same wiring with fixed ports through `python -m aligned_common.localrun env`.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aligned_common.localrun import (
    DATABASE_SERVICES,
    LOCAL_LOGIN_PASSWORD,
    LOCAL_RUN_DIR,
    ensure_secrets_file,
    wiring,
)
from aligned_common.migrations import ensure_login_role
from aligned_testing.consumer_groups import start_groups_at_end
from aligned_testing.infra import REPO_ROOT, Infra
from aligned_testing.service import free_port
from aligned_testing.webhooks import META_APP_SECRET, META_VERIFY_TOKEN

SERVICES_DIR = REPO_ROOT / "services"
# The order services start in: the sandbox first (connections calls it), the gateway last.
START_ORDER = (
    "sandbox",
    "connections",
    "publishing",
    "approval",
    "analytics",
    "webhooks",
    "engagement",
    "brandkit",
    "gateway",
)
# What tests add: short waits everywhere a production default waits minutes, so that retries,
# refreshes and escalations happen within a test's deadline. Shapes stay the production ones.
TEST_SETTINGS = {
    "ALIGNED_PUBLISHING_RETRY_BASE_S": "1",
    "ALIGNED_PUBLISHING_RETRY_CAP_S": "4",
    "ALIGNED_PUBLISHING_PUBLISHING_TIMEOUT_S": "120",
    # A deleted media asset's object and row are purged within seconds (tests check the store).
    "ALIGNED_PUBLISHING_MEDIA_PURGE_AFTER_S": "1",
    "ALIGNED_PUBLISHING_MAX_UPLOAD_BYTES": "20000000",
    # Presigned uploads not completed within 30 s expire and are cleaned up (tests watch it);
    # multipart uploads in S3's smallest parts, so a test's video has a few.
    "ALIGNED_PUBLISHING_UPLOAD_URL_TTL_S": "30",
    "ALIGNED_PUBLISHING_UPLOAD_PART_BYTES": "5242880",
    "ALIGNED_PUBLISHING_PURGE_INTERVAL_S": "1",
    "ALIGNED_CONNECTIONS_REFRESH_INTERVAL_S": "1",
    "ALIGNED_CONNECTIONS_REFRESH_BACKOFF_BASE_S": "1",
    "ALIGNED_CONNECTIONS_REFRESH_BACKOFF_MAX_S": "5",
    "ALIGNED_CONNECTIONS_PLATFORM_READ_TIMEOUT_S": "2",
    "ALIGNED_CONNECTIONS_DEFAULT_RETRY_AFTER_S": "1",
    # Outside network is off in tests: only the sandbox platform is connectable.
    "ALIGNED_CONNECTIONS_BLUESKY_SERVICE_URL": "",
    # The topics are shared with other tests' scratch services: never answer their attempts.
    "ALIGNED_CONNECTIONS_ANSWER_UNKNOWN_CONNECTIONS": "false",
    "ALIGNED_APPROVAL_ESCALATION_INTERVAL_S": "0.5",
    "ALIGNED_APPROVAL_ESCALATION_HOUR_S": "2",
    "ALIGNED_APPROVAL_MAIL_INTERVAL_S": "5",
    # Digests at 08:00 in each client's zone, looked for every second (tests move a client's
    # local clock by changing their time zone).
    "ALIGNED_APPROVAL_DIGEST_HOUR": "8",
    "ALIGNED_APPROVAL_DIGEST_INTERVAL_S": "1",
    "ALIGNED_WEBHOOKS_RETRY_SCALE": "0.05",
    # The engagement poll every 2 s, and an SLA "hour" of 2 s looked at every half second.
    "ALIGNED_CONNECTIONS_ENGAGEMENT_POLL_INTERVAL_S": "2",
    "ALIGNED_ENGAGEMENT_SLA_HOUR_S": "2",
    "ALIGNED_ENGAGEMENT_SLA_INTERVAL_S": "0.5",
    # Meta's webhooks for Facebook Pages, with a test app's secret and verify token.
    "ALIGNED_WEBHOOKS_PROVIDER_SECRETS": json.dumps({"facebook": [META_APP_SECRET]}),
    "ALIGNED_WEBHOOKS_PROVIDER_VERIFY_TOKENS": json.dumps({"facebook": META_VERIFY_TOKEN}),
    "ALIGNED_WEBHOOKS_DELIVERY_POLL_INTERVAL_S": "0.5",
    "ALIGNED_GATEWAY_FANOUT_DEADLINE_S": "5",
    "ALIGNED_GATEWAY_READ_CACHE_TTL_S": "1",
    "ALIGNED_GATEWAY_LIVE_RETENTION_S": "600",
    "ALIGNED_LOG_LEVEL": "INFO",
}


def discover_services() -> list[str]:
    found = [
        p.name for p in SERVICES_DIR.iterdir() if (p / "src" / f"aligned_{p.name}" / "__main__.py").exists()
    ]
    return sorted(found, key=lambda n: START_ORDER.index(n) if n in START_ORDER else len(START_ORDER))


def local_services_running() -> list[str]:
    """Services `make up` started and that still run (their pid files in .local/run)."""
    running = []
    for pid_file in sorted(LOCAL_RUN_DIR.glob("*.pid")) if LOCAL_RUN_DIR.exists() else []:
        try:
            command = Path(f"/proc/{int(pid_file.read_text().strip())}/cmdline").read_bytes()
        except (ValueError, OSError):
            continue
        if f"aligned_{pid_file.stem}".encode() in command:  # not a pid the kernel gave to another program
            running.append(pid_file.stem)
    return running


# -- consumer groups ---------------------------------------------------------------------------
# Asked of the service's own build(), in a process of its own (as the service would see its env).
_GROUPS_OF = """
import importlib, json, sys
definition = importlib.import_module(f"aligned_{sys.argv[1]}.bootstrap").build()
routers = ([definition.event_router] if definition.event_router else []) + list(definition.extra_event_routers)
print(json.dumps({f"aligned-{r.service}": r.topics() for r in routers}))
"""


def consumer_groups_of(name: str, env: dict[str, str]) -> dict[str, list[str]]:
    """The Kafka consumer groups a service joins and the topics each reads."""
    if name == "sandbox":
        return {}
    done = subprocess.run([sys.executable, "-c", _GROUPS_OF, name], env=env, capture_output=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"could not list {name}'s consumer groups:\n{done.stderr.decode()}")
    return json.loads(done.stdout.decode().strip().splitlines()[-1])


# -- processes ---------------------------------------------------------------------------------
# `python -m cProfile` writes nothing here: uvicorn re-raises the SIGTERM it stopped on once it has
# shut down, and the default handler ends the process first. A handler of ours turns it into
# SystemExit, so the profile is written.
_PROFILED = """
import cProfile, runpy, signal, sys
def stop(*_):
    raise SystemExit(0)
signal.signal(signal.SIGTERM, stop)
sys.argv = ["{module}", "serve"]
profile = cProfile.Profile()
try:
    profile.runcall(runpy.run_module, "{module}", run_name="__main__")
except SystemExit:
    pass
finally:
    profile.dump_stats("{output}")
"""


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

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.poll() is None else None

    def command(self) -> list[str]:
        if self.name == "sandbox":
            return [
                sys.executable,
                "-m",
                "aligned_sandbox",
                "serve",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ]
        # ALIGNED_PROFILE_DIR: each service runs under cProfile and writes <dir>/<name>.prof when
        # it stops (docs/performance.md, "Where a post's CPU goes").
        profile_dir = self.env.get("ALIGNED_PROFILE_DIR")
        if profile_dir:
            output = str(Path(profile_dir) / f"{self.name}.prof")
            return [sys.executable, "-c", _PROFILED.format(module=f"aligned_{self.name}", output=output)]
        return [sys.executable, "-m", f"aligned_{self.name}", "serve"]

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_healthy(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is None:
                raise RuntimeError(f"{self.name} was not started")
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

    def terminate(self) -> None:
        """SIGTERM once (uvicorn takes a second one as "exit now, skip the graceful part")."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def wait_stopped(self, timeout_s: float = 30) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def stop(self) -> None:
        self.terminate()
        self.wait_stopped()

    def rss_bytes(self) -> int:
        """Resident memory of the process, from /proc (0 when it is not running)."""
        pid = self.pid
        if pid is None:
            return 0
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0


@dataclass
class System:
    infra: Infra
    log_dir: Path
    settings: dict[str, str] = field(default_factory=dict)  # extra env on top of the wiring
    processes: dict[str, list[ServiceProcess]] = field(default_factory=dict)  # name -> replicas
    env: dict[str, str] = field(default_factory=dict)
    # The recipients' mail server (the outside world, like the sandbox): what approval mailed
    # since this platform started, read from Mailpit's API.
    mailbox: Any = None  # aligned_testing.mailbox.Mailbox, once plan() ran
    _groups: dict[str, list[str]] = field(default_factory=dict)

    # -- where things are
    def url(self, name: str, replica: int = 0) -> str:
        return self.processes[name][replica].url

    def urls(self, name: str) -> list[str]:
        return [p.url for p in self.processes[name]]

    @property
    def services(self) -> dict[str, ServiceProcess]:
        """The first process of each service."""
        return {name: replicas[0] for name, replicas in self.processes.items()}

    def names(self) -> list[str]:
        return list(self.processes)

    # -- life cycle
    def plan(self, names: list[str]) -> None:
        ports = {name: free_port() for name in names}
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith("ALIGNED_") or k == "ALIGNED_TEST_INFRA"
        }
        self.env = inherited | wiring(
            ports,
            ensure_secrets_file(),
            self.infra.database_url,
            self.infra.kafka_bootstrap,
            self.infra.object_store,
            self.infra.mail,
        )
        if "approval" in ports:
            from aligned_testing.mailbox import Mailbox

            self.mailbox = Mailbox.of(self.infra.mail).start()
        self.env.update(self.settings)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name, port in ports.items():
            log_path = self.log_dir / f"{name}.log"
            log_path.write_bytes(b"")  # one run's log per file: the previous run's is not mixed in
            self.processes[name] = [ServiceProcess(name, port, dict(self.env), log_path)]

    def migrate(self) -> None:
        async def login_roles() -> None:
            for name in DATABASE_SERVICES:
                if name in self.processes:
                    await ensure_login_role(self.infra.database_url, name, LOCAL_LOGIN_PASSWORD)

        asyncio.run(login_roles())

        # Migrations take an advisory lock per schema, so the services migrate side by side.
        def run(name: str) -> None:
            done = subprocess.run(
                [sys.executable, "-m", f"aligned_{name}", "migrate"],
                env=self.env,
                capture_output=True,
                timeout=300,
            )
            if done.returncode != 0:
                raise RuntimeError(f"{name} migrate failed:\n{done.stdout.decode()}\n{done.stderr.decode()}")

        with ThreadPoolExecutor(max_workers=len(self.processes)) as pool:
            list(pool.map(run, [n for n in self.processes if n != "sandbox"]))

    def consumer_groups(self) -> dict[str, list[str]]:
        """Every consumer group of the platform and the topics it reads."""
        if not self._groups:
            with ThreadPoolExecutor(max_workers=len(self.processes)) as pool:
                for groups in pool.map(lambda n: consumer_groups_of(n, self.env), list(self.processes)):
                    self._groups.update(groups)
        return self._groups

    def skip_history(self) -> None:
        """Commit every group's position at the topics' current end, before the services start.

        The shared topics carry every other test's events; chewing through them (tens of
        thousands on a developer's machine) would only delay the run by minutes. The groups
        keep their offsets from here on, so a service killed later resumes where it was.
        """

        async def commit_all() -> None:
            for group, topics in self.consumer_groups().items():
                await start_groups_at_end(self.infra.kafka_bootstrap, group, topics)

        asyncio.run(commit_all())

    def start(self) -> None:
        for replicas in self.processes.values():
            for process in replicas:
                process.start()
        for replicas in self.processes.values():
            for process in replicas:
                process.wait_healthy()

    def restart(self, name: str, *, hard: bool = True, replica: int = 0) -> None:
        process = self.processes[name][replica]
        process.kill() if hard else process.stop()
        process.start()
        process.wait_healthy()

    def scale(self, count: int, names: list[str] | None = None) -> None:
        """Run `count` processes of each service (the sandbox stays one: it is the platform).
        Extra processes share the first one's env but listen on ports of their own."""
        for name in names or [n for n in self.processes if n != "sandbox"]:
            replicas = self.processes[name]
            while len(replicas) > count:
                replicas.pop().stop()
            while len(replicas) < count:
                port = free_port()
                env = dict(replicas[0].env) | {f"ALIGNED_{name.upper()}_HTTP_PORT": str(port)}
                process = ServiceProcess(name, port, env, self.log_dir / f"{name}-{len(replicas) + 1}.log")
                process.start()
                replicas.append(process)
                process.wait_healthy()

    def rss_bytes(self) -> dict[str, int]:
        """Resident memory per service, summed over its processes."""
        return {name: sum(p.rss_bytes() for p in replicas) for name, replicas in self.processes.items()}

    def stop(self) -> None:
        """SIGTERM to every process at once (each finishes its message in hand), then wait."""
        every = [p for replicas in reversed(list(self.processes.values())) for p in reversed(replicas)]
        for process in every:
            process.terminate()
        for process in every:
            process.wait_stopped()
        if self.mailbox is not None:
            self.mailbox.stop()


def start_system(
    infra: Infra,
    log_dir: Path,
    names: list[str] | None = None,
    settings: dict[str, str] | None = None,
    *,
    skip_history: bool = True,
) -> System:
    running = local_services_running()
    if running:
        # They would join the same consumer groups and schemas as the processes started here.
        raise RuntimeError(
            f"`make up` services are running ({', '.join(running)}): run `make down` first, then this again"
        )
    system = System(infra=infra, log_dir=log_dir, settings=dict(TEST_SETTINGS) | (settings or {}))
    system.plan(names or discover_services())
    system.migrate()
    if skip_history:
        system.skip_history()
    try:
        system.start()
    except BaseException:
        system.stop()
        raise
    return system
