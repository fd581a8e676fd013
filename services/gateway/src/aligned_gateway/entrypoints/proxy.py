"""Commands and reads for the services: look the path up in the route table, check the
role's permission, and forward with the signed identity. Registered after the gateway's
own routes, so those win. The path is the pipeline's one reading of it (domain/paths.py):
matched decoded, forwarded as its percent-encoded form, never re-read in between."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from aligned_common.problems import Problem
from aligned_gateway.adapters.upstream import UpstreamUnavailable
from aligned_gateway.entrypoints.http import Service
from aligned_gateway.service_layer.routing import route_for

router = APIRouter(include_in_schema=False)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def _media_type(headers: list[tuple[str, str]]) -> str:
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    return content_type.split(";")[0].strip().lower()


# Error answers a service wrote on purpose: problems, and the pages public links render for a
# browser (an expired review link). Anything else is a server's fallback and becomes a problem.
DELIBERATE_ERROR_TYPES = frozenset({"application/problem+json", "application/json", "text/html"})


@router.api_route("/v1/{rest:path}", methods=METHODS)
@router.api_route("/webhooks/{rest:path}", methods=METHODS)
@router.api_route("/review/{rest:path}", methods=METHODS)
@router.api_route("/unsubscribe/{rest:path}", methods=METHODS)
@router.api_route("/calendar/{rest:path}", methods=METHODS)  # publishing's calendar feeds (public)
@router.api_route("/report/{rest:path}", methods=METHODS)  # analytics' client report pages (public)
async def forward(request: Request, rest: str, deps: Service) -> Response:
    identity = getattr(request.state, "identity", None)
    route = route_for(request.method, request.url.path, identity)
    body = await request.body()  # bounded by the pipeline while it streams in
    try:
        answer = await deps.upstreams.forward(
            route.service,
            request.method,
            request.scope["raw_path"].decode("ascii"),
            request.scope["query_string"],
            body,
            {k.lower(): v for k, v in request.headers.items()},
            identity,
            getattr(request.state, "request_id", None),
            public=route.public,
            origin=getattr(request.state, "origin", None),
        )
    except UpstreamUnavailable as exc:
        if not exc.sent:
            request.state.upstream_not_sent = True  # idempotency: a retry may run
            status = 503
        else:
            status = 504 if exc.reason == "timed out" else 502
        raise Problem(
            status, "Service unavailable", detail=f"the {exc.service} service {exc.reason}", retry_after=1
        ) from None
    if answer.status >= 400 and _media_type(answer.headers) not in DELIBERATE_ERROR_TYPES:
        # A service's error that is not problem+json (a crash answered by its server's fallback,
        # `text/plain`): the client still gets a problem, with the status and the request id.
        raise Problem(
            answer.status,
            "Service error" if answer.status >= 500 else "Request refused",
            detail=f"the {route.service} service answered {answer.status}",
        )
    response = Response(content=answer.body, status_code=answer.status)
    for name, value in answer.headers:
        response.headers.append(name, value)
    return response
