"""A CSV file of posts, read into rows a job can be made of (no I/O).

The columns (header names, any order; only `targets` is required):

- `text`: the post's text.
- `text:<connection id>` or `text:<platform>`: one account's (or one platform's) own text.
- `targets`: the connection ids the post goes to, separated by `;` (or spaces).
- `scheduled_at`: ISO 8601 with a UTC offset, or a local time together with `time_zone`;
  empty: a draft without a time.
- `time_zone`: an IANA zone (`Europe/Berlin`).
- `media_ids`: the brand's media ids, separated by `;`.
- `first_comment`: a comment to post right after the post (stored with the row).
- `tags`: separated by `;`.
- `requires_approval`: `true`/`false` (empty: false): the author asks for approval.

Each row is numbered as a spreadsheet shows it (the header is row 1). A row's problems name
its column; the file's own (not UTF-8, no header, an unknown column, too many rows) refuse it
whole. Whether the connections and media belong to the brand is the service layer's to check.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from aligned_publishing.domain.schedule import ScheduleError, resolve_schedule

FIXED_COLUMNS = (
    "text",
    "targets",
    "scheduled_at",
    "time_zone",
    "media_ids",
    "first_comment",
    "tags",
    "requires_approval",
)
TEXT_PREFIX = "text:"
MAX_TEXT = 100_000  # as a job's content (domain/commands.py)
MAX_TAGS, MAX_MEDIA, MAX_TARGETS = 50, 20, 50
_SPLIT = re.compile(r"[;\s]+")
# A row's job id is derived from (brand, file, row): the same file imported twice, or twice at
# once, names the same jobs, and the second creates none of them.
IMPORT_NAMESPACE = uuid.UUID("6f1c3b0e-8d2a-4f57-9a61-2b7c0c9e5d41")


class FileError(ValueError):
    """The file as a whole cannot be read (the column, or None for the file itself)."""

    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass
class ImportRow:
    row: int  # as a spreadsheet numbers it: the header is row 1
    text: str = ""
    targets: list[uuid.UUID] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # connection id or platform -> text
    scheduled_at: datetime | None = None  # UTC
    time_zone: str | None = None
    media_ids: list[uuid.UUID] = field(default_factory=list)
    first_comment: str | None = None
    tags: list[str] = field(default_factory=list)
    requires_approval: bool = False
    problems: list[dict[str, str]] = field(default_factory=list)  # {column, message}

    def problem(self, column: str, message: str) -> None:
        self.problems.append({"column": column, "message": message})

    def text_for(self, connection_id: uuid.UUID, platform: str) -> str | None:
        """This account's own text: by its id first, else by its platform; None: the row's text."""
        return self.texts.get(str(connection_id), self.texts.get(platform.lower()))

    def job_id(self, brand_id: uuid.UUID, file_hash: str) -> uuid.UUID:
        return uuid.uuid5(IMPORT_NAMESPACE, f"{brand_id}/{file_hash}/{self.row}")


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_csv(data: bytes, *, max_rows: int) -> list[ImportRow]:
    """Every row of the file, each with its own problems (an empty list: it can be a job)."""
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet's export often starts with a BOM
    except UnicodeDecodeError as exc:
        raise FileError(None, f"the file is not UTF-8 (byte {exc.start})") from None
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise FileError(None, f"not a CSV file: {exc}") from None
    if not records or not any(cell.strip() for cell in records[0]):
        raise FileError(None, "the file has no header row")
    header = [name.strip() for name in records[0]]
    _check_header(header)
    body = [
        (number, cells) for number, cells in enumerate(records[1:], start=2) if any(c.strip() for c in cells)
    ]
    if len(body) > max_rows:
        raise FileError(None, f"{len(body)} rows; at most {max_rows} per file")
    return [_row(number, header, cells) for number, cells in body]


def _check_header(header: list[str]) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise FileError(name, "the column appears twice")
        seen.add(name)
        if name in FIXED_COLUMNS:
            continue
        if not name.startswith(TEXT_PREFIX) or not name[len(TEXT_PREFIX) :].strip():
            known = ", ".join((*FIXED_COLUMNS, "text:<connection id or platform>"))
            raise FileError(name, f"unknown column (the columns are {known})")
    if "targets" not in seen:
        raise FileError("targets", "the file needs a targets column")


def _row(number: int, header: list[str], cells: list[str]) -> ImportRow:
    row = ImportRow(number)
    if len(cells) > len(header):
        row.problem("", f"{len(cells)} cells for {len(header)} columns")
    values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
    for name, value in values.items():
        if name.startswith(TEXT_PREFIX) and value != "":
            key = name[len(TEXT_PREFIX) :].strip().lower()
            row.texts[key] = _bounded(row, name, value)
    row.text = _bounded(row, "text", values.get("text", ""))
    row.targets = _ids(row, "targets", values["targets"], MAX_TARGETS)
    if not row.targets and not any(p["column"] == "targets" for p in row.problems):
        row.problem("targets", "at least one connection id")
    row.media_ids = _ids(row, "media_ids", values.get("media_ids", ""), MAX_MEDIA)
    row.tags = [t for t in _SPLIT.split(values.get("tags", "").strip()) if t]
    if len(row.tags) > MAX_TAGS:
        row.problem("tags", f"at most {MAX_TAGS} tags")
    row.first_comment = _bounded(row, "first_comment", values.get("first_comment", "")) or None
    _schedule(row, values.get("scheduled_at", "").strip(), values.get("time_zone", "").strip())
    flag = values.get("requires_approval", "").strip().lower()
    if flag not in ("", "true", "false", "yes", "no", "1", "0"):
        row.problem("requires_approval", f"{flag!r} is not true or false")
    row.requires_approval = flag in ("true", "yes", "1")
    return row


def _bounded(row: ImportRow, column: str, value: str) -> str:
    if len(value) > MAX_TEXT:
        row.problem(column, f"at most {MAX_TEXT} characters")
    return value


def _ids(row: ImportRow, column: str, value: str, most: int) -> list[uuid.UUID]:
    ids: list[uuid.UUID] = []
    for part in (p for p in _SPLIT.split(value.strip()) if p):
        try:
            ids.append(uuid.UUID(part))
        except ValueError:
            row.problem(column, f"{part!r} is not an id")
    if len(ids) > most:
        row.problem(column, f"at most {most}")
    return list(dict.fromkeys(ids))  # the same id twice is one


def _schedule(row: ImportRow, at: str, zone: str) -> None:
    row.time_zone = zone or None
    if not at:
        if zone:
            try:  # a zone alone is kept (the draft's display zone), if it is one
                resolve_schedule(datetime(2000, 1, 1), zone)
            except ScheduleError as exc:
                row.problem(exc.field, exc.message)
        return
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        row.problem("scheduled_at", f"{at!r} is not an ISO 8601 time")
        return
    try:
        row.scheduled_at = resolve_schedule(moment, row.time_zone).at_utc
    except ScheduleError as exc:
        row.problem(exc.field, exc.message)
