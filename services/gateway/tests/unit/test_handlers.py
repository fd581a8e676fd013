"""The service layer's rules on in-memory fakes (conftest.py): route permission decisions,
aggregated reads with a service down, the caps on open streams, and who a caller acts as."""

from __future__ import annotations

import uuid

import pytest

from aligned_common.identity import Identity
from aligned_gateway.domain import routes
from aligned_gateway.domain.claims import Claims
from aligned_gateway.domain.errors import BadRequest, Forbidden, NotFound, Unauthenticated
from aligned_gateway.domain.permissions import ROLES, allows
from aligned_gateway.entrypoints.errors import problem_of
from aligned_gateway.service_layer import aggregates, auth
from aligned_gateway.service_layer.aggregates import Fanout
from aligned_gateway.service_layer.read_cache import ReadCache
from aligned_gateway.service_layer.routing import route_for
from aligned_gateway.service_layer.stream_leases import StreamLeases

pytestmark = pytest.mark.unit

BRAND = uuid.uuid4()


def _as(role: str, user: str = "u1", brand: uuid.UUID = BRAND) -> Identity:
    return Identity(tenant_id=uuid.uuid4(), brand_id=brand, user_id=user, role=role)


# -- which service, and may the role ask it ------------------------------------------------------
def test_every_route_and_role_is_decided_by_the_matrix():
    for route in routes.ROUTES:
        path = route.pattern.replace("{id}", str(uuid.uuid4()))
        for method in ("GET", "POST", "DELETE"):
            for role in ROLES:
                permission = route.permission_for(method)
                allowed = route.public or permission is None or allows(role, permission)
                if allowed:
                    assert route_for(method, path, _as(role)).service == route.service
                else:
                    with pytest.raises(Forbidden) as refused:
                        route_for(method, path, _as(role))
                    assert problem_of(refused.value).status == 403


def test_an_unknown_path_is_a_404_and_only_public_rows_need_no_caller():
    with pytest.raises(NotFound):
        route_for("GET", "/v1/nowhere", _as("owner"))
    assert route_for("POST", "/webhooks/sandbox", None).service == "webhooks"
    with pytest.raises(Unauthenticated) as refused:
        route_for("GET", "/v1/jobs", None)
    problem = problem_of(refused.value)
    assert problem.status == 401 and problem.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_role_is_refused_what_it_lacks_naming_the_permission():
    with pytest.raises(Forbidden) as refused:
        route_for("GET", "/v1/connections", _as("client"))
    assert refused.value.detail == "role 'client' lacks connections.read"
    with pytest.raises(Forbidden):
        route_for("POST", "/v1/jobs", _as("viewer"))


def test_the_engagement_inbox_is_staffs_and_viewers_and_its_sla_managers():
    assert route_for("GET", "/v1/engagement/items", _as("viewer")).service == "engagement"
    assert route_for("POST", "/v1/engagement/items/x/replies", _as("editor")).service == "engagement"
    for method, path, role in (
        ("GET", "/v1/engagement/items", "client"),
        ("POST", "/v1/engagement/items/x/state", "viewer"),
        ("PUT", "/v1/engagement/sla", "editor"),
    ):
        with pytest.raises(Forbidden):
            route_for(method, path, _as(role))


# -- aggregated reads -----------------------------------------------------------------------------
def _dashboard_answers(upstreams):
    job = str(uuid.uuid4())
    upstreams.answers = {
        "publishing": {"/v1/jobs": (200, {"items": [{"job_id": job, "status": "scheduled"}]})},
        "approval": {
            "/v1/approvals": (
                200,
                {
                    "items": [
                        {"job_id": job, "round": 1, "status": "changes_requested"},
                        {"job_id": job, "round": 2, "status": "pending"},
                    ]
                },
            )
        },
        "connections": {"/v1/connections": (200, {"items": [{"platform": "sandbox"}]})},
        "analytics": {"/v1/analytics/summary": (200, {"impressions": 42})},
        "engagement": {"/v1/engagement/counts": (200, {"open": 3, "assigned": 1})},
    }
    return job


async def test_a_service_down_makes_its_section_degraded_not_the_answer(upstreams):
    job = _dashboard_answers(upstreams)
    upstreams.down = {"analytics"}
    fanout = Fanout(upstreams, ReadCache(10), deadline_s=1.0)
    answer = await aggregates.dashboard(fanout, _as("owner"), "req-1", None, None)
    assert answer["analytics"] is None and answer["degraded"] == ["analytics"]
    assert answer["calendar"] == [
        {"job_id": job, "status": "scheduled", "approval": {"job_id": job, "round": 2, "status": "pending"}}
    ]
    assert answer["pending_approvals"] == [{"job_id": job, "round": 2, "status": "pending"}]
    assert answer["connections"] == [{"platform": "sandbox"}]
    assert answer["inbox"] == {"open": 3, "assigned": 1}  # the engagement inbox's counts beside them


async def test_a_5xx_is_degraded_and_a_section_the_role_may_not_see_is_not_asked(upstreams):
    _dashboard_answers(upstreams)
    upstreams.answers["publishing"]["/v1/jobs"] = (500, {"title": "Internal error"})
    fanout = Fanout(upstreams, ReadCache(10), deadline_s=1.0)
    answer = await aggregates.dashboard(fanout, _as("client"), None, None, None)
    assert answer["calendar"] is None and answer["degraded"] == ["publishing"]
    assert answer["connections"] is None  # a client lacks connections.read: not degraded, not asked
    assert ("connections", "/v1/connections") not in upstreams.calls
    assert answer["inbox"] is None and ("engagement", "/v1/engagement/counts") not in upstreams.calls


async def test_a_post_the_brand_does_not_have_is_a_404_and_no_rounds_is_an_empty_list(upstreams):
    job_id = uuid.uuid4()
    fanout = Fanout(upstreams, ReadCache(10), deadline_s=1.0)
    with pytest.raises(NotFound):  # publishing answers 404 for every path of the fake
        await aggregates.post_detail(fanout, _as("owner"), None, job_id)
    upstreams.answers = {
        "publishing": {f"/v1/jobs/{job_id}": (200, {"job_id": str(job_id), "attempts": [{"n": 1}]})}
    }
    upstreams.down = {"analytics"}
    answer = await aggregates.post_detail(fanout, _as("owner"), None, job_id)
    assert answer["attempts"] == [{"n": 1}] and answer["approval_rounds"] == []
    assert answer["metrics"] is None and answer["degraded"] == ["analytics"]


# -- open live event streams, counted across replicas -------------------------------------------
async def test_streams_are_capped_per_user_then_per_brand(lease_store):
    leases = StreamLeases(lease_store, ttl_s=30)
    caps = {"max_per_user": 2, "max_per_brand": 3}
    first, _ = await leases.acquire(_as("owner", "u1"), **caps)
    second, _ = await leases.acquire(_as("owner", "u1"), **caps)
    assert first and second and await leases.acquire(_as("owner", "u1"), **caps) == (None, "user")
    third, _ = await leases.acquire(_as("viewer", "u2"), **caps)
    assert third and await leases.acquire(_as("viewer", "u3"), **caps) == (None, "brand")
    other_brand, _ = await leases.acquire(_as("owner", "u1", uuid.uuid4()), **caps)
    assert other_brand is not None
    # A stream closed a moment ago no longer counts, before the renewal round deletes it.
    leases.release(first)
    assert (await leases.acquire(_as("owner", "u1"), **caps))[0] is not None


async def test_a_round_renews_open_streams_and_deletes_closed_ones_or_retries_them(lease_store):
    leases = StreamLeases(lease_store, ttl_s=30)
    caps = {"max_per_user": 5, "max_per_brand": 5}
    open_, _ = await leases.acquire(_as("owner"), **caps)
    closed, _ = await leases.acquire(_as("owner"), **caps)
    assert open_ and closed
    leases.hold(open_)
    leases.hold(closed)
    leases.release(closed)
    lease_store.failing = True
    with pytest.raises(ConnectionError):
        await leases.renew()
    assert closed in lease_store.rows  # kept for the next round
    lease_store.failing = False
    await leases.renew()
    assert lease_store.renewed == [[open_]] and set(lease_store.rows) == {open_} and leases.held == 1


# -- who the caller acts as -------------------------------------------------------------------------
def _claims(*brands: uuid.UUID, role: str = "owner") -> Claims:
    return Claims(subject="u1", tenant_id=uuid.uuid4(), brand_ids=brands, role=role)


async def test_the_role_is_the_current_membership_not_the_token_s(roles):
    roles.roles[(BRAND, "u1")] = "viewer"
    identity = await auth.identity_for(_claims(BRAND, role="owner"), None, roles)
    assert identity.brand_id == BRAND and identity.role == "viewer"
    with pytest.raises(Forbidden):  # not (or no longer) a member
        await auth.identity_for(_claims(uuid.uuid4()), None, roles)


async def test_the_brand_is_the_token_s_only_one_or_the_header_s_among_its_brands(roles):
    other = uuid.uuid4()
    roles.roles[(other, "u1")] = "editor"
    with pytest.raises(BadRequest) as refused:
        await auth.identity_for(_claims(BRAND, other), None, roles)
    assert refused.value.title == "Brand required"
    assert (await auth.identity_for(_claims(BRAND, other), str(other), roles)).role == "editor"
    with pytest.raises(Forbidden):  # a brand the token does not name, asked for by id
        await auth.identity_for(_claims(BRAND), str(other), roles)


# -- wiring ---------------------------------------------------------------------------------------
async def test_build_needs_no_secret_but_the_gateway_does_not_start_without_one():
    from aligned_gateway.bootstrap import build
    from aligned_gateway.config import Settings

    definition = build(Settings(jwt_secret=None, jwks_url=None, jwks_file=None), name="gateway_unit")
    assert definition.name == definition.database.schema == "gateway_unit"
    with pytest.raises(RuntimeError, match="no token verification configured"):
        await definition.on_startup(definition.deps)
    await definition.deps.upstreams.close()
