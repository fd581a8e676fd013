"""OAuth 2 authorization code flow with PKCE (S256 only), refresh and revocation.

Clients are public (PKCE instead of a client secret) and need no registration: any client_id is
accepted, but a code or refresh token only works for the client_id it was issued to.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aligned_sandbox.errors import SandboxError
from aligned_sandbox.routes.deps import get_sandbox, read_fields
from aligned_sandbox.state import Sandbox

router = APIRouter(prefix="/oauth", tags=["oauth"])
SandboxDep = Annotated[Sandbox, Depends(get_sandbox)]
DEFAULT_ACCOUNT = "sandbox-user"


class AuthorizationRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    response_type: Literal["code"] = "code"
    client_id: str = Field(min_length=1)
    redirect_uri: str = Field(pattern=r"^https?://")
    state: str = ""
    code_challenge: str = Field(min_length=43, max_length=128)
    code_challenge_method: Literal["S256"] = "S256"  # "plain" is refused, as OAuth 2.1 requires
    scope: str = "read write"


def _parse_authorization_request(fields: dict[str, str]) -> AuthorizationRequest:
    try:
        return AuthorizationRequest.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise SandboxError(400, "invalid_request", problems) from error


def _approve(sandbox: Sandbox, auth: AuthorizationRequest, account_name: str) -> str:
    """Consent given: the URL to send the browser back to, carrying a fresh code."""
    now = sandbox.clock.now()
    account = sandbox.accounts.sign_in(account_name, now)
    code = sandbox.oauth.issue_code(
        account, auth.client_id, auth.redirect_uri, auth.code_challenge, auth.scope, now
    )
    separator = "&" if "?" in auth.redirect_uri else "?"
    return auth.redirect_uri + separator + urlencode({"code": code, "state": auth.state})


@router.get("/authorize", response_model=None)
async def authorize_page(request: Request, sandbox: SandboxDep) -> Response:
    fields = dict(request.query_params)
    auth = _parse_authorization_request(fields)
    if fields.get("auto_approve", "").lower() in {"1", "true", "yes"}:
        return RedirectResponse(
            _approve(sandbox, auth, fields.get("account") or DEFAULT_ACCOUNT), status_code=302
        )
    return HTMLResponse(_consent_form(auth))


@router.post("/authorize", response_model=None)
async def authorize_decision(request: Request, sandbox: SandboxDep) -> Response:
    """The consent form's target; automation may post the same fields as JSON."""
    fields = await read_fields(request)
    location = _approve(
        sandbox, _parse_authorization_request(fields), fields.get("account") or DEFAULT_ACCOUNT
    )
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"redirect_to": location})
    return RedirectResponse(location, status_code=302)


@router.post("/token")
async def token(request: Request, sandbox: SandboxDep) -> JSONResponse:
    fields = await read_fields(request)
    now = sandbox.clock.now()
    grant_type = fields.get("grant_type")
    if grant_type == "authorization_code":
        code, client_id, redirect_uri, verifier = _required(
            fields, "code", "client_id", "redirect_uri", "code_verifier"
        )
        issued = sandbox.oauth.exchange_code(code, client_id, redirect_uri, verifier, now)
    elif grant_type == "refresh_token":
        refresh_token, client_id = _required(fields, "refresh_token", "client_id")
        issued = sandbox.oauth.refresh(refresh_token, client_id, now)
    else:
        raise SandboxError(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")
    return JSONResponse(issued.model_dump(exclude_none=True), headers={"Cache-Control": "no-store"})


@router.post("/revoke")
async def revoke(request: Request, sandbox: SandboxDep) -> JSONResponse:
    (token_to_revoke,) = _required(await read_fields(request), "token")
    sandbox.oauth.revoke(token_to_revoke)
    return JSONResponse({})


def _required(fields: dict[str, str], *names: str) -> tuple[str, ...]:
    missing = [name for name in names if not fields.get(name)]
    if missing:
        raise SandboxError(400, "invalid_request", f"missing {', '.join(missing)}")
    return tuple(fields[name] for name in names)


def _consent_form(auth: AuthorizationRequest) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(str(value))}">'
        for name, value in auth.model_dump().items()
    )
    return (
        "<!doctype html><title>Sandbox - authorize</title>"
        f"<h1>{escape(auth.client_id)} asks for: {escape(auth.scope)}</h1>"
        f'<form method="post" action="/oauth/authorize">{hidden}'
        f'<label>Account <input name="account" value="{DEFAULT_ACCOUNT}"></label>'
        "<button type=submit>Authorize</button></form>"
    )
