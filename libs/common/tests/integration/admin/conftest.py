"""Helpers for the aligned-admin tests: run a command as an operator would, in-process."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest

from aligned_common.admin.cli import build_parser
from aligned_common.admin.settings import AdminSettings
from aligned_testing.schemas import drop_schema


@pytest.fixture
def admin(infra, capsys):
    """`await admin("dlq", "list", ...)` -> (exit code, stdout), with the test's infrastructure."""
    settings = AdminSettings(
        database_url=infra.database_url,
        ledger_schema="unused",
        kafka_bootstrap=infra.kafka_bootstrap,
        service=None,
        operator="test-operator",
    )

    async def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        args = build_parser().parse_args(list(argv))
        code = await args.run(args, settings)
        return code, capsys.readouterr().out

    return run


def json_of(output: str):
    return json.loads(output)


@pytest.fixture
async def ledger_schema(infra) -> AsyncIterator[str]:
    """A replay ledger of the test's own, dropped afterwards (with the roles migrate creates)."""
    schema = f"t_ledger_{uuid.uuid4().hex[:10]}"
    yield schema
    await drop_schema(infra.database_url, schema)
