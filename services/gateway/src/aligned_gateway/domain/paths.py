"""The one reading of a request path: what the permission table is matched against is
exactly what the services receive.

The gateway used to match its table against the raw path while its HTTP client removed dot
segments on the way out, so `/review/../metrics` passed as a public review page and reached
a service's /metrics. Now the path is read once, at the start of the pipeline, from the bytes
the client sent (`raw_path`):

- each segment is percent-decoded exactly once (strict: a stray `%`, or bytes that are not
  UTF-8, are refused);
- anything that two readers could take for different paths is refused with a 400 rather
  than guessed at: dot segments (`.`, `..`, also encoded as `%2e` and as `..;`), empty
  segments (`//`), encoded slashes (`%2F`), backslashes (literal or `%5C`), control
  characters and NUL, and a segment that still holds a percent-escape after decoding
  (double encoding, `%252e`), which a server that decodes twice would read as a dot;
- the decoded segments are percent-encoded again, one way, for the upstream URL: a decoded
  `?`, `#` or non-ASCII letter stays inside its segment.

A client never needs any of the refused forms: ids, tokens and names are single segments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote_to_bytes

# RFC 3986 pchar besides unreserved letters and digits, which `quote` keeps anyway.
_PCHAR_SAFE = "-._~!$&'()*+,;=:@"
_STRICT_ESCAPES = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_QUERY_OK = re.compile(rb"[\x21-\x7e]*")


class AmbiguousPath(ValueError):
    """The path could be read in more than one way (or not at all): answer 400."""


@dataclass(frozen=True)
class NormalPath:
    path: str  # decoded, what the route table and the gateway's own routes match
    raw_path: str  # percent-encoded, what is forwarded upstream


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F


def _segment(raw: str) -> str:
    if not _STRICT_ESCAPES.fullmatch(raw):
        raise AmbiguousPath("a '%' in the path that is not a percent-escape")
    try:
        value = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise AmbiguousPath("a percent-escape in the path that is not UTF-8") from None
    if "/" in value:
        raise AmbiguousPath("an encoded slash (%2F) in the path")
    if "\\" in value:
        raise AmbiguousPath("a backslash in the path")
    if any(_is_control(c) for c in value):
        raise AmbiguousPath("a control character in the path")
    if value.split(";", 1)[0] in (".", ".."):
        raise AmbiguousPath("a dot segment ('.' or '..') in the path")
    if _ESCAPE.search(value):
        raise AmbiguousPath("a double-encoded percent-escape in the path")
    return value


def normalise(raw_path: bytes) -> NormalPath:
    try:
        text = raw_path.decode("ascii")
    except UnicodeDecodeError:
        raise AmbiguousPath("the path must be ASCII (percent-encode other characters)") from None
    if not text.startswith("/"):
        raise AmbiguousPath("the path must start with '/'")
    if "\\" in text:
        raise AmbiguousPath("a backslash in the path")
    raw_segments = text[1:].split("/")
    decoded = []
    for position, raw in enumerate(raw_segments):
        if raw == "" and position < len(raw_segments) - 1:
            raise AmbiguousPath("an empty path segment ('//')")
        decoded.append(_segment(raw))
    return NormalPath("/" + "/".join(decoded), "/" + "/".join(quote(s, safe=_PCHAR_SAFE) for s in decoded))


def check_query(query_string: bytes) -> None:
    """A query is forwarded as sent: it must be printable ASCII (what RFC 3986 allows)."""
    if not _QUERY_OK.fullmatch(query_string):
        raise AmbiguousPath("the query string must be printable ASCII (percent-encode other characters)")
