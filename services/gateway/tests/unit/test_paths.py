"""The gateway's one reading of a request path (domain/paths.py)."""

from __future__ import annotations

import httpx
import pytest

from aligned_gateway.domain.paths import AmbiguousPath, check_query, normalise

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "path", "forwarded"),
    [
        (b"/v1/jobs", "/v1/jobs", "/v1/jobs"),
        (b"/v1/jobs/", "/v1/jobs/", "/v1/jobs/"),
        (b"/", "/", "/"),
        (b"/%761/jobs", "/v1/jobs", "/v1/jobs"),  # an encoded letter is that letter
        (b"/v1/connections/%C3%8D%C3%BD~", "/v1/connections/\u00cd\u00fd~", "/v1/connections/%C3%8D%C3%BD~"),
        (b"/v1/jobs/a%3Fb%23c", "/v1/jobs/a?b#c", "/v1/jobs/a%3Fb%23c"),  # ? and # stay inside the segment
        (b"/v1/jobs/a%20b", "/v1/jobs/a b", "/v1/jobs/a%20b"),
        (b"/review/abc.def-_~", "/review/abc.def-_~", "/review/abc.def-_~"),
        (b"/review/a;b=c", "/review/a;b=c", "/review/a;b=c"),
        (b"/v1/x/...", "/v1/x/...", "/v1/x/..."),  # three dots are a name, not a dot segment
        (b"/review/100%25", "/review/100%", "/review/100%25"),  # a lone percent sign, encoded once
    ],
)
def test_a_plain_path_is_read_once_and_forwarded_encoded(raw, path, forwarded):
    normal = normalise(raw)
    assert (normal.path, normal.raw_path) == (path, forwarded)
    # httpx takes the forwarded form as it is: no dot-segment removal, no second encoding.
    assert httpx.URL("http://upstream:1" + normal.raw_path).raw_path == forwarded.encode()


@pytest.mark.parametrize(
    "raw",
    [
        b"/review/../metrics",
        b"/review/./x",
        b"/review/..",
        b"/review/.",
        b"/review/%2e%2e/openapi.json",
        b"/review/%2E%2E/x",
        b"/review/.%2e/x",
        b"/review/%2e/x",
        b"/v1/approvals/1/decision/../links",
        b"/review/..;/metrics",
        b"/review/%2e%2e;x/metrics",
        b"/review/.;/x",
        b"//metrics",
        b"/v1//jobs",
        b"/review//",
        b"/v1%2fjobs",
        b"/review/a%2Fb",
        b"/review/%2F",
        b"/review\\..\\metrics",
        b"/review/a%5cb",
        b"/review/%5C",
        b"/v1/connections/%C3%8D%C3%BD~%12",
        b"/v1/x/%00",
        b"/v1/x/%7F",
        b"/v1/x/%C2%85",
        b"/review/%252e%252e/metrics",
        b"/review/%2541",
        b"/review/%zz",
        b"/review/%2",
        b"/review/%",
        b"/review/%C3",
        b"/review/%FF",
        b"/review/\xc3\xa9",
        b"review/x",
        b"",
    ],
)
def test_anything_ambiguous_is_refused(raw):
    with pytest.raises(AmbiguousPath):
        normalise(raw)


def test_the_query_must_be_printable_ascii():
    check_query(b"")
    check_query(b"cursor=abc%3D&limit=5&access_token=x.y.z")
    for bad in (b"a=\x12", b"a=b c", "a=\u00e9".encode()):
        with pytest.raises(AmbiguousPath):
            check_query(bad)
