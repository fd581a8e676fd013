"""aligned-admin: the operator's commands (see docs/operations.md for each, with kubectl lines).

Entry points only: parse flags, call the module that does the work, print the result.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from importlib.metadata import version
from urllib.parse import urlsplit

import asyncpg
import httpx
from aiokafka.errors import KafkaError

from aligned_common.admin import dlq, migrations_status, outbox, services_http
from aligned_common.admin.settings import AdminSettings
from aligned_common.admin.timespec import parse_since


def _print_table(rows: list[dict], columns: list[str]) -> None:
    if not rows:
        print("(none)")
        return
    cells = [[str(r.get(c) if r.get(c) is not None else "-") for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _print_json(value) -> None:
    print(json.dumps(value, indent=2, default=str))


# sysexits' EX_UNAVAILABLE: a script tells "could not ask" apart from "asked, and the answer
# is bad" (1, e.g. `outbox status --check`) and from a wrong command line (2).
EXIT_UNREACHABLE = 69
CONNECT_TIMEOUT_S = 10.0


class Unreachable(Exception):
    """A database, broker or service the command needs did not answer: one line, no traceback."""


def _where(dsn: str) -> str:
    parts = urlsplit(dsn)  # host and port only: the URL may carry a password
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}"


async def _with_pool(dsn: str, work: Callable[[asyncpg.Pool], Awaitable]):
    try:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise Unreachable(
            f"cannot reach the database at {_where(dsn)}: {exc or type(exc).__name__}"
        ) from None
    try:
        return await work(pool)
    finally:
        await pool.close()


# -- outbox ------------------------------------------------------------------------------------


async def cmd_outbox_status(args, settings: AdminSettings) -> int:
    schemas = args.service or ([settings.service] if settings.service else [])
    if not schemas:
        raise SystemExit(
            "outbox status: name the service (--service publishing) or run it in the service's pod"
        )

    async def collect(pool):
        return [await outbox.outbox_status(pool, schema) for schema in schemas]

    statuses = await _with_pool(args.database_url or settings.database_url, collect)
    if args.json:
        _print_json([s.__dict__ for s in statuses])
    else:
        _print_table(
            [{**s.__dict__, "lag_seconds": f"{s.lag_seconds:.1f}", "healthy": s.healthy} for s in statuses],
            [
                "schema",
                "pending",
                "failing",
                "lag_seconds",
                "oldest_pending_at",
                "last_published_at",
                "healthy",
                "last_error",
            ],
        )
    return 0 if all(s.healthy for s in statuses) or not args.check else 1


# -- DLQ -----------------------------------------------------------------------------------------


def _only_brand(letters: list[dlq.DeadLetter], brand: uuid.UUID | None) -> list[dlq.DeadLetter]:
    # The key is the brand id (the relay keys by brand), also for bytes that never parsed.
    return letters if brand is None else [d for d in letters if d.key == str(brand).encode()]


async def cmd_dlq_list(args, settings: AdminSettings) -> int:
    since = parse_since(args.since) if args.since else None
    letters = _only_brand(
        await dlq.read_dead_letters(settings.kafka_bootstrap, dlq.dlq_topics(args.topic), since), args.brand
    )
    rows = [letter.summary() for letter in letters][-args.limit :]
    if args.json:
        _print_json(rows)
    else:
        _print_table(
            rows, ["dlq_id", "dead_lettered_at", "reason", "event_type", "brand_id", "handler", "error"]
        )
        print(
            f"{len(letters)} dead letter(s)"
            + (f", showing the last {len(rows)}" if len(rows) < len(letters) else "")
        )
    return 0


async def cmd_dlq_show(args, settings: AdminSettings) -> int:
    letter = await dlq.find(settings.kafka_bootstrap, args.dlq_id, dlq.dlq_topics(args.topic))
    if letter is None:
        print(f"no dead letter {args.dlq_id}", file=sys.stderr)
        return 1
    _print_json(letter.detail())
    return 0


async def cmd_dlq_replay(args, settings: AdminSettings) -> int:
    topics = dlq.dlq_topics(args.topic)
    if args.dlq_id:
        found = await dlq.find(settings.kafka_bootstrap, args.dlq_id, topics)
        if found is None:
            print(f"no dead letter {args.dlq_id}", file=sys.stderr)
            return 1
        letters = [found]
    else:
        letters = await dlq.read_dead_letters(settings.kafka_bootstrap, topics, parse_since(args.since))
    letters = _only_brand(letters, args.brand)
    if args.reason:
        letters = [d for d in letters if d.headers.get("x-dlq-reason") == args.reason]
    if args.dry_run:
        _print_table([d.summary() for d in letters], ["dlq_id", "reason", "event_type", "original"])
        return 0
    dsn = args.database_url or settings.database_url
    await dlq.prepare_ledger(dsn, args.ledger_schema or settings.ledger_schema)

    async def run(pool):
        return await dlq.replay(
            pool,
            args.ledger_schema or settings.ledger_schema,
            settings.kafka_bootstrap,
            letters,
            settings.operator,
        )

    outcomes = await _with_pool(dsn, run)
    _print_table([o.__dict__ for o in outcomes], ["dlq_id", "replayed", "original_topic", "event_id"])
    sent = sum(o.replayed for o in outcomes)
    print(f"replayed {sent}, already replayed before {len(outcomes) - sent}")
    return 0


# -- migrations ---------------------------------------------------------------------------------


def _service_of(args, settings: AdminSettings) -> str:
    service = args.service or settings.service
    if not service:
        raise SystemExit("name the service (--service publishing) or run it in the service's pod")
    return service


async def cmd_migrations_status(args, settings: AdminSettings) -> int:
    migrations = migrations_status.of_service(_service_of(args, settings))
    rows = await migrations_status.migration_status(args.database_url or settings.database_url, migrations)
    _print_table(
        [{"schema": migrations.schema, "version": v, "state": s} for v, s in rows],
        ["schema", "version", "state"],
    )
    return 1 if any(s != "applied" for _, s in rows) else 0


async def cmd_migrations_wait(args, settings: AdminSettings) -> int:
    migrations = migrations_status.of_service(_service_of(args, settings))
    applied = await migrations_status.wait_until_applied(
        args.database_url or settings.database_url, migrations, args.timeout
    )
    print(f"{migrations.schema}: {len(applied)} migration(s) applied, none pending")
    return 0


async def cmd_migrate_ledger(args, settings: AdminSettings) -> int:
    await dlq.prepare_ledger(
        args.database_url or settings.database_url, args.ledger_schema or settings.ledger_schema
    )
    print(f"{args.ledger_schema or settings.ledger_schema}: replay ledger ready")
    return 0


# -- services' own APIs ----------------------------------------------------------------------------


def _client(service: str, args, settings: AdminSettings) -> services_http.BrandClient:
    return services_http.BrandClient(service, args.tenant, args.brand, settings.operator, args.url)


async def cmd_webhooks_failed(args, settings: AdminSettings) -> int:
    rows = await services_http.failed_webhook_deliveries(
        _client("webhooks", args, settings), parse_since(args.since), args.endpoint
    )
    _print_json(rows) if args.json else _print_table(
        rows, ["id", "endpoint_id", "event_type", "status", "attempts", "created_at"]
    )
    return 0


async def cmd_webhooks_replay(args, settings: AdminSettings) -> int:
    client = _client("webhooks", args, settings)
    if args.delivery:
        await services_http.replay_webhook_delivery(client, args.delivery)
        print(f"delivery {args.delivery} queued again")
        return 0
    replayed = await services_http.replay_webhook_deliveries(client, parse_since(args.since), args.endpoint)
    _print_table(
        [{"endpoint_id": e, "replayed": n} for e, n in replayed.items()], ["endpoint_id", "replayed"]
    )
    return 0


async def cmd_connections_expiring(args, settings: AdminSettings) -> int:
    rows = await services_http.expiring_connections(_client("connections", args, settings), args.within_hours)
    _print_json(rows) if args.json else _print_table(
        rows, ["id", "platform", "account_name", "status", "expires_at"]
    )
    return 0


async def cmd_publishing_show(args, settings: AdminSettings) -> int:
    _print_json(await services_http.publishing_job(_client("publishing", args, settings), args.job))
    return 0


async def cmd_publishing_redrive(args, settings: AdminSettings) -> int:
    _print_json(await services_http.redrive_publishing_job(_client("publishing", args, settings), args.job))
    return 0


async def cmd_media_quota(args, settings: AdminSettings) -> int:
    _print_json(await services_http.media_quota(_client("publishing", args, settings), args.set))
    return 0


# -- parser ---------------------------------------------------------------------------------------


def _brand_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", type=uuid.UUID, required=True)
    parser.add_argument("--brand", type=uuid.UUID, required=True)
    parser.add_argument(
        "--url", help="the service's base URL (default: ALIGNED_ADMIN_<SERVICE>_URL or http://<service>)"
    )


def _leaf_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield parser
    for action in subcommands:
        for sub in action.choices.values():
            yield from _leaf_parsers(sub)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aligned-admin", description="Operator commands for Aligned (docs/operations.md)"
    )
    parser.add_argument("--version", action="version", version=f"aligned-admin {version('aligned-common')}")
    parser.add_argument(
        "--database-url", help="default: ALIGNED_ADMIN_DATABASE_URL or the pod's ALIGNED_DATABASE_URL"
    )
    parser.add_argument("--ledger-schema", help="schema of the DLQ replay ledger (default aligned_admin)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    groups = parser.add_subparsers(dest="group", required=True)

    box = groups.add_parser("outbox", help="transactional outbox").add_subparsers(
        dest="command", required=True
    )
    status = box.add_parser("status", help="pending events, lag and errors per service schema")
    status.add_argument(
        "--service", action="append", help="service schema (repeatable); default: this pod's service"
    )
    status.add_argument("--check", action="store_true", help="exit 1 unless every outbox is healthy")
    status.set_defaults(run=cmd_outbox_status)

    dead = groups.add_parser("dlq", help="dead-letter queues").add_subparsers(dest="command", required=True)
    listing = dead.add_parser("list", help="dead letters, oldest first")
    listing.add_argument("--topic", action="append", help="event topic or DLQ (repeatable); default: all")
    listing.add_argument("--since", help="ISO time or age (2h, 1d)")
    listing.add_argument("--brand", type=uuid.UUID, help="only this brand's dead letters")
    listing.add_argument("--limit", type=int, default=200)
    listing.set_defaults(run=cmd_dlq_list)
    show = dead.add_parser("show", help="one dead letter with its headers, error and envelope")
    show.add_argument("dlq_id")
    show.add_argument("--topic", action="append")
    show.set_defaults(run=cmd_dlq_show)
    replay = dead.add_parser("replay", help="republish to the original topic, once per dead letter")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", dest="dlq_id")
    which.add_argument("--since", help="every dead letter since: ISO time or age (2h, 1d)")
    replay.add_argument("--topic", action="append")
    replay.add_argument("--reason", help="only this x-dlq-reason (e.g. handler_failed)")
    replay.add_argument("--brand", type=uuid.UUID, help="only this brand's dead letters")
    replay.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    replay.set_defaults(run=cmd_dlq_replay)

    mig = groups.add_parser("migrations", help="schema migrations").add_subparsers(
        dest="command", required=True
    )
    mstatus = mig.add_parser("status", help="applied / pending / changed, per migration")
    mstatus.add_argument("--service")
    mstatus.set_defaults(run=cmd_migrations_status)
    wait = mig.add_parser("wait", help="block until this image's migrations are applied (init container)")
    wait.add_argument("--service")
    wait.add_argument("--timeout", type=float, default=900)
    wait.set_defaults(run=cmd_migrations_wait)
    groups.add_parser("migrate", help="create or update the DLQ replay ledger").set_defaults(
        run=cmd_migrate_ledger
    )

    hooks = groups.add_parser("webhooks", help="outbound webhook deliveries").add_subparsers(
        dest="command", required=True
    )
    failed = hooks.add_parser("failed", help="failed deliveries of a brand since a time")
    _brand_flags(failed)
    failed.add_argument("--since", required=True)
    failed.add_argument("--endpoint", type=uuid.UUID)
    failed.set_defaults(run=cmd_webhooks_failed)
    hreplay = hooks.add_parser("replay", help="queue failed deliveries again")
    _brand_flags(hreplay)
    hwhich = hreplay.add_mutually_exclusive_group(required=True)
    hwhich.add_argument("--since")
    hwhich.add_argument("--delivery", type=uuid.UUID)
    hreplay.add_argument("--endpoint", type=uuid.UUID)
    hreplay.set_defaults(run=cmd_webhooks_replay)

    conns = groups.add_parser("connections", help="platform connections").add_subparsers(
        dest="command", required=True
    )
    expiring = conns.add_parser("expiring", help="a brand's connections whose token expires soon")
    _brand_flags(expiring)
    expiring.add_argument("--within-hours", type=float, default=24)
    expiring.set_defaults(run=cmd_connections_expiring)

    pub = groups.add_parser("publishing", help="publishing jobs").add_subparsers(
        dest="command", required=True
    )
    for name, run, text in (
        ("show", cmd_publishing_show, "a job with its targets"),
        ("redrive", cmd_publishing_redrive, "release a stuck ready/scheduled job now"),
    ):
        sub = pub.add_parser(name, help=text)
        _brand_flags(sub)
        sub.add_argument("--job", type=uuid.UUID, required=True)
        sub.set_defaults(run=run)

    media = groups.add_parser("media", help="media storage").add_subparsers(dest="command", required=True)
    quota = media.add_parser("quota", help="a brand's media quota and usage (--set changes the quota)")
    _brand_flags(quota)
    quota.add_argument("--set", type=int, metavar="BYTES", help="the new quota in bytes")
    quota.set_defaults(run=cmd_media_quota)
    for leaf in _leaf_parsers(parser):
        # `--json` after the subcommand as well as before it; SUPPRESS keeps the one given first.
        leaf.add_argument(
            "--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output"
        )
    return parser


def _url_of(exc: httpx.TransportError) -> str:
    try:
        return f"the service at {exc.request.url.copy_with(query=None)}"
    except RuntimeError:  # no request attached
        return "a service"


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    settings = AdminSettings.from_env()
    # The client libraries log each failed connection attempt; the one line below says it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        code = asyncio.run(args.run(args, settings))
    except Unreachable as exc:
        print(f"aligned-admin: {exc}", file=sys.stderr)
        code = EXIT_UNREACHABLE
    except KafkaError as exc:
        print(f"aligned-admin: cannot reach Kafka at {settings.kafka_bootstrap}: {exc}", file=sys.stderr)
        code = EXIT_UNREACHABLE
    except httpx.TransportError as exc:
        print(f"aligned-admin: cannot reach {_url_of(exc)}: {exc or type(exc).__name__}", file=sys.stderr)
        code = EXIT_UNREACHABLE
    except OSError as exc:  # a connection refused outside the paths above (migrations status)
        print(f"aligned-admin: cannot connect: {exc}", file=sys.stderr)
        code = EXIT_UNREACHABLE
    except asyncpg.PostgresError as exc:
        print(f"aligned-admin: the database refused: {exc}", file=sys.stderr)
        code = 1
    except (services_http.ServiceError, TimeoutError, RuntimeError, ValueError) as exc:
        print(f"aligned-admin: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)
