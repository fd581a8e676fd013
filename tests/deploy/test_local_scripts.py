"""What a newcomer sees from deploy/local, checked without starting anything: long steps say
when they start and end, `make status` is one table, `make logs` is readable, every server
and service port can be moved, and the mailbox is part of the local infrastructure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "deploy" / "local"


def bash(script: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    """A deploy/local command against an empty state dir (nothing of a running make up is touched)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALIGNED_")}
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=clean | {"ALIGNED_LOCAL_DIR": str(tmp_path)} | env,
    )


def test_a_long_step_prints_a_line_when_it_starts_and_one_with_its_time_when_it_ends(tmp_path):
    done = bash(f"source {LOCAL}/lib.sh; LOG_TAG=x; timed 'fetching things' sleep 0.3", tmp_path)
    assert done.returncode == 0
    assert done.stderr.splitlines()[0] == "[x] fetching things ..."
    last = done.stderr.splitlines()[1]
    assert last.startswith("[x] fetching things: done in ") and last.endswith(" s")
    assert 0.3 <= float(last.split("done in ")[1][:-2]) < 5


def test_a_failing_step_stops_the_script_without_an_end_line(tmp_path):
    done = bash(f"set -e; source {LOCAL}/lib.sh; timed 'fetching things' false; echo after", tmp_path)
    assert done.returncode != 0 and "done in" not in done.stderr and "after" not in done.stdout


def test_status_of_stopped_servers_is_one_table_with_each_port(tmp_path):
    done = bash(
        f"bash {LOCAL}/infra.sh status",
        tmp_path,
        ALIGNED_PG_PORT="25999",
        ALIGNED_KAFKA_PORT="29998",
        ALIGNED_S3_PORT="29997",
        ALIGNED_SMTP_PORT="29996",
    )
    assert done.returncode == 3, done.stderr
    header, *rows = done.stdout.splitlines()
    assert header.split() == ["NAME", "PID", "PORT", "HEALTH", "WHERE"]
    assert [row.split()[:4] for row in rows] == [
        ["postgres", "-", "25999", "stopped"],
        ["kafka", "-", "29998", "stopped"],
        ["s3proxy", "-", "29997", "stopped"],
        ["mailpit", "-", "29996", "stopped"],
    ]


def test_infra_env_names_the_mail_server_ports(tmp_path):
    done = bash(f"bash {LOCAL}/infra.sh env", tmp_path, ALIGNED_SMTP_PORT="29025")
    assert "export ALIGNED_SMTP_PORT=29025" in done.stdout
    assert "export ALIGNED_MAILPIT_HTTP_PORT=19825" in done.stdout  # the default, clear of the other servers'


def test_mailpit_is_built_from_the_go_module_proxy_into_local_state():
    script = (LOCAL / "mailpit.sh").read_text()
    assert 'go install "github.com/axllent/mailpit@$VERSION"' in script
    assert 'VERSION="${ALIGNED_MAILPIT_VERSION:-v1.33.1}"' in script
    assert (
        'GOPATH="$CACHE/go"' in script
        and 'CACHE="${ALIGNED_MAILPIT_CACHE:-$ALIGNED_REPO_ROOT/.local/mailpit/cache}"' in script
    )


def test_logs_are_pretty_printed_from_json_and_other_lines_pass_through():
    record = {
        "time": "2026-12-03T12:04:31.207123+00:00",
        "level": "warning",
        "logger": "aligned.outbox",
        "message": "relay paused",
        "schema": "publishing",
        "exception": "Traceback\nBoom",
    }
    done = subprocess.run(
        [sys.executable, str(LOCAL / "logs.py")],
        input=json.dumps(record) + "\nINFO: Started\n",
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stdout.splitlines() == [
        "12:04:31.207 WARNING aligned.outbox  relay paused  schema=publishing",
        "    Traceback",
        "    Boom",
        "INFO: Started",
    ]


def test_logs_of_an_unknown_service_name_the_choices_and_a_known_one_says_where_its_log_will_be(tmp_path):
    done = bash(f"bash {LOCAL}/services.sh logs nosuch", tmp_path)
    assert (
        done.returncode == 1
        and "SERVICE=<name>" in done.stderr
        and "gateway" in done.stderr
        and "mailpit" in done.stderr
    )
    done = bash(f"bash {LOCAL}/services.sh logs gateway", tmp_path)
    assert done.returncode == 1 and f"no log yet at {tmp_path}/logs/gateway.log" in done.stderr


def test_make_up_ports_shift_by_an_offset_and_one_moves_on_its_own(monkeypatch):
    from aligned_common.localrun import LOCAL_PORTS, local_env, local_ports

    monkeypatch.setenv("ALIGNED_LOCAL_PORT_OFFSET", "60")
    monkeypatch.setenv("ALIGNED_SANDBOX_HTTP_PORT", "28080")
    monkeypatch.setenv("ALIGNED_SMTP_PORT", "29025")
    monkeypatch.setattr(
        "aligned_common.localrun.ensure_secrets_file",
        lambda: {"ALIGNED_WEBHOOKS_SANDBOX_SECRET": "whsec_x"},
    )
    ports = local_ports()
    assert ports["gateway"] == LOCAL_PORTS["gateway"] + 60 and ports["sandbox"] == 28080
    env = local_env()
    assert env["ALIGNED_GATEWAY_HTTP_PORT"] == str(LOCAL_PORTS["gateway"] + 60)
    assert (
        env["ALIGNED_PUBLIC_BASE_URL"] == f"http://127.0.0.1:{LOCAL_PORTS['gateway'] + 60}"
    )  # links in mails
    assert env["ALIGNED_GATEWAY_APPROVAL_URL"] == f"http://127.0.0.1:{LOCAL_PORTS['approval'] + 60}"
    assert (env["ALIGNED_APPROVAL_SMTP_HOST"], env["ALIGNED_APPROVAL_SMTP_PORT"]) == ("127.0.0.1", "29025")
