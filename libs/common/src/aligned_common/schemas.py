"""JSON Schemas and the AsyncAPI document generated from the event models.

`python -m aligned_common.schemas write [dir]` regenerates schemas/ (refusing a change
that would break consumers unless the model's schema version was raised);
`check [dir]` fails when the checked-in files drift from the models.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from aligned_common.envelope import EventEnvelope
from aligned_common.events.base import EventData
from aligned_common.events.registry import EVENT_TYPES, dlq_of, topic_of

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_DIR = Path(__file__).resolve().parents[4] / "schemas"


def event_schema(model: type[EventData]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="serialization")
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"https://aligned.dev/schemas/events/{model.event_type()}.json",
        "x-event-type": model.event_type(),
        "x-schema-version": model.schema_version(),
        "x-topic": topic_of(model.event_type()),
        **schema,
    }


def envelope_schema() -> dict[str, Any]:
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "https://aligned.dev/schemas/envelope.json",
        **EventEnvelope.model_json_schema(),
    }


def asyncapi_document(models: dict[str, type[EventData]]) -> dict[str, Any]:
    """AsyncAPI 3.0: one channel per topic (and its DLQ), one message per event type."""
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for event_type, model in models.items():
        topic = topic_of(event_type)
        channel_id = topic.replace(".", "_")
        message_id = event_type.replace(".", "_")
        channel = channels.setdefault(
            channel_id,
            {
                "address": topic,
                "description": f"Events of the {event_type.split('.')[0]} service, key = brand_id",
                "messages": {},
            },
        )
        channel["messages"][message_id] = {"$ref": f"#/components/messages/{message_id}"}
        messages[message_id] = {
            "name": event_type,
            "title": model.__name__,
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {"event_type": {"const": event_type}, "traceparent": {"type": "string"}},
            },
            "payload": {"$ref": f"./events/{event_type}.json"},
            "x-schema-version": model.schema_version(),
        }
        operations.setdefault(
            f"publish_{channel_id}",
            {"action": "send", "channel": {"$ref": f"#/channels/{channel_id}"}, "messages": []},
        )
        operations[f"publish_{channel_id}"]["messages"].append(
            {"$ref": f"#/channels/{channel_id}/messages/{message_id}"}
        )
    for topic in sorted({topic_of(t) for t in models}):
        channels[dlq_of(topic).replace(".", "_")] = {
            "address": dlq_of(topic),
            "description": "Messages a consumer could not handle; headers x-dlq-reason, x-dlq-error, x-dlq-handler, x-original-offset",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Aligned domain events", "version": "1.0.0"},
        "defaultContentType": "application/json",
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"messages": dict(sorted(messages.items()))},
    }


def render_all(models: dict[str, type[EventData]] | None = None) -> dict[str, str]:
    """Relative path -> file text, for every generated file."""
    models = models or EVENT_TYPES
    files = {f"events/{t}.json": _dump(event_schema(m)) for t, m in models.items()}
    files["envelope.json"] = _dump(envelope_schema())
    files["asyncapi.json"] = _dump(asyncapi_document(models))
    return files


def _dump(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


# -- compatibility -------------------------------------------------------------------


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in `new` breaks a consumer written for `old` (removed/retyped required fields,
    narrowed enums, new required fields that old events lack)."""
    return _compare_object(old, old, new, new, path="")


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].split("/")[-1]
        node = root.get("$defs", {}).get(name, {})
    if "anyOf" in node:  # Optional[X] renders as anyOf [X, null]: compare the non-null part
        non_null = [n for n in node["anyOf"] if n.get("type") != "null"]
        if len(non_null) == 1:
            return {**_resolve(non_null[0], root), "nullable": True}
    return node


def _compare_object(old_root, old, new_root, new, path: str) -> list[str]:
    problems: list[str] = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(old_required):
        if name not in new_props:
            problems.append(f"removed required field {path}{name}")
    for name in sorted(new_required - old_required):
        problems.append(f"new required field {path}{name} (events already written lack it)")
    for name in sorted(set(old_props) & set(new_props)):
        problems += _compare_field(
            old_root,
            _resolve(old_props[name], old_root),
            new_root,
            _resolve(new_props[name], new_root),
            f"{path}{name}",
        )
    return problems


def _compare_field(old_root, old, new_root, new, path: str) -> list[str]:
    if old.get("type") != new.get("type"):
        return [f"retyped field {path}: {old.get('type')} -> {new.get('type')}"]
    old_enum = old.get("enum") or ([old["const"]] if "const" in old else None)
    new_enum = new.get("enum") or ([new["const"]] if "const" in new else None)
    if old_enum is not None and new_enum is not None and not set(old_enum) <= set(new_enum):
        return [f"narrowed enum {path}: lost {sorted(set(old_enum) - set(new_enum))}"]
    if old.get("nullable") and not new.get("nullable"):
        return [f"field {path} no longer accepts null"]
    if old.get("type") == "object":
        return _compare_object(old_root, old, new_root, new, f"{path}.")
    if old.get("type") == "array":
        return _compare_field(
            old_root,
            _resolve(old.get("items", {}), old_root),
            new_root,
            _resolve(new.get("items", {}), new_root),
            f"{path}[]",
        )
    return []


def compatibility_report(directory: Path, models: dict[str, type[EventData]] | None = None) -> list[str]:
    """Breaking changes of the models against the checked-in schemas whose version was not raised."""
    models = models or EVENT_TYPES
    problems = []
    for event_type, model in models.items():
        path = directory / "events" / f"{event_type}.json"
        if not path.exists():
            continue  # a new event type breaks no one
        old = json.loads(path.read_text())
        new = event_schema(model)
        if new["x-schema-version"] > old.get("x-schema-version", 1):
            continue  # a deliberate new version: consumers are told by schema_version
        problems += [f"{event_type}: {p}" for p in breaking_changes(old, new)]
    for path in sorted((directory / "events").glob("*.json")):
        if path.stem not in models:
            problems.append(f"{path.stem}: event type removed while consumers may still read it")
    return problems


# schemas/ also holds the HTTP API's document, which the API's own generator writes
# (aligned_testing.contract): not a stale event schema.
NOT_EVENT_SCHEMAS = frozenset({"openapi.json"})


def drift(directory: Path, models: dict[str, type[EventData]] | None = None) -> list[str]:
    wanted = render_all(models)
    problems = [
        p for p, text in wanted.items() if not (directory / p).exists() or (directory / p).read_text() != text
    ]
    extra = (
        {str(p.relative_to(directory)) for p in directory.rglob("*.json")} - set(wanted) - NOT_EVENT_SCHEMAS
    )
    return sorted(problems) + sorted(f"{p} (no model)" for p in extra)


def write(directory: Path, models: dict[str, type[EventData]] | None = None) -> list[str]:
    problems = compatibility_report(directory, models) if directory.exists() else []
    if problems:
        raise SystemExit(
            "refusing to write schemas; breaking changes without a schema_version bump:\n  "
            + "\n  ".join(problems)
        )
    files = render_all(models)
    for stale in directory.rglob("*.json") if directory.exists() else []:
        if str(stale.relative_to(directory)) not in {*files, *NOT_EVENT_SCHEMAS}:
            stale.unlink()
    for rel, text in files.items():
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return sorted(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aligned_common.schemas")
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    if args.command == "write":
        written = write(args.directory)
        print(f"wrote {len(written)} schema files to {args.directory}")
        return 0
    problems = drift(args.directory) + compatibility_report(args.directory)
    for problem in problems:
        print(f"schema check: {problem}", file=sys.stderr)
    if problems:
        print("run `make schemas` and commit schemas/", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
