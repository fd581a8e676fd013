"""`make logs SERVICE=<name>`: a service's JSON log lines (stdin) as one readable line each.

    12:04:31.207 INFO  aligned.outbox  published 3 event(s)  schema=publishing trace_id=4bf9…

Lines that are not JSON records (a traceback, uvicorn's start banner) pass through unchanged.
"""

from __future__ import annotations

import json
import sys

FIRST = ("time", "level", "logger", "message", "exception")


def readable(line: str) -> str:
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict) or "message" not in entry:
        return line
    clock = str(entry.get("time", ""))[11:23]  # HH:MM:SS.mmm of the ISO time
    extra = "  ".join(f"{k}={v}" for k, v in entry.items() if k not in FIRST)
    text = f"{clock} {str(entry.get('level', '')).upper():<5} {entry.get('logger', '')}  {entry['message']}"
    text += f"  {extra}" if extra else ""
    if entry.get("exception"):
        text += "\n    " + str(entry["exception"]).replace("\n", "\n    ")
    return text + "\n"


def main() -> None:
    try:
        for line in sys.stdin:
            sys.stdout.write(readable(line))
            sys.stdout.flush()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
