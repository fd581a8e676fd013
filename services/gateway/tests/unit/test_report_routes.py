"""The client report's routes: the page is public and analytics', the links are managers' only."""

from __future__ import annotations

import pytest

from aligned_gateway.domain.permissions import Permission, allows
from aligned_gateway.domain.routes import match

pytestmark = pytest.mark.unit


def test_the_report_page_is_public_and_nothing_else_borrows_its_prefix() -> None:
    page = match("/report/some-token")
    assert page is not None and page.service == "analytics" and page.public
    assert page.permission_for("GET") is None
    assert match("/reports/some-token") is None  # a prefix match ends at a segment
    assert match("/reportx") is None


@pytest.mark.parametrize(
    "path", ["/v1/reports/links", "/v1/reports/links/8d1c0c1e-0000-4000-8000-000000000000"]
)
def test_report_links_need_reports_share_for_reads_and_writes(path: str) -> None:
    route = match(path)
    assert route is not None and route.service == "analytics" and not route.public
    assert route.permission_for("GET") == route.permission_for("DELETE") == Permission.REPORTS_SHARE
    sharers = {
        role
        for role in ("owner", "admin", "editor", "approver", "client", "viewer")
        if allows(role, Permission.REPORTS_SHARE)
    }
    assert sharers == {"owner", "admin"}
