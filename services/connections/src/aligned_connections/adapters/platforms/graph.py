"""What Meta's Graph APIs (Facebook Pages, Instagram, Threads) share: their error bodies, their
rate-limit headers, and Facebook Login.

Error body (https://developers.facebook.com/docs/graph-api/guides/error-handling):
`{"error": {"message", "type", "code", "error_subcode", "is_transient", "error_user_msg",
"fbtrace_id"}}`, usually with HTTP 400 whatever the cause, so the code decides, not the status:

| codes                                          | meaning                         | error          |
|------------------------------------------------|---------------------------------|----------------|
| 102, 190 (and its subcodes 458-467)            | token invalid, expired, revoked | AuthFailure    |
| 10, 200-299                                    | a permission is missing         | AuthFailure    |
| 4, 17, 32, 613, 80001-80014; IG 9 + 2207042    | rate or publishing limit        | Retryable 429  |
| 1, 2, or `is_transient`                        | Meta's own hiccup               | Retryable, or UnknownOutcome on a write |
| anything else (100, 368, 506, 324, 36003, ...) | the request or content refused  | Rejected       |

A throttle is reported as status 429 whatever HTTP status Meta used, because 429 is what the
publish path reads to block the account's rate bucket until the reset.

Rate-limit headers (https://developers.facebook.com/docs/graph-api/overview/rate-limiting):
`X-Business-Use-Case-Usage` (Page tokens: `{"<id>": [{"type", "call_count", "total_cputime",
"total_time", "estimated_time_to_regain_access"}]}`, the wait in minutes) and `X-App-Usage`
(user tokens: `{"call_count", "total_cputime", "total_time"}`, percentages of an hour's allowance).

Tokens go in an `Authorization: Bearer` header, which Graph accepts, never in a URL (and its logs).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, SecretStr

from aligned_connections.adapters.platforms.errors import (
    AuthFailure,
    NotSupported,
    Rejected,
    Retryable,
    UnknownOutcome,
)
from aligned_connections.adapters.platforms.http import Model, PlatformHttp, bearer, retry_after_s
from aligned_connections.adapters.platforms.models import AuthorizationCode, AuthorizationGrant

GRAPH_VERSION = "v21.0"
GRAPH_URL = f"https://graph.facebook.com/{GRAPH_VERSION}"
FACEBOOK_DIALOG = f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth"

AUTH_CODES = frozenset({102, 190, 10})
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80001, 80015)})
TRANSIENT_CODES = frozenset({1, 2})
IG_PUBLISHING_LIMIT = (9, 2207042)
# X-App-Usage names no reset time; its window rolls over an hour, so a throttled app waits a
# fraction of it rather than hammering the API at the default backoff.
APP_USAGE_WAIT_S = 300.0


class GraphError(BaseModel):
    message: str = ""
    type: str | None = None
    code: int | None = None
    error_subcode: int | None = None
    is_transient: bool = False
    error_user_msg: str | None = None
    fbtrace_id: str | None = None

    @property
    def words(self) -> str:
        # error_user_msg is the text Meta writes for the person; message the one for developers.
        return self.error_user_msg or self.message or f"Graph error {self.code}"


def graph_error(response: httpx.Response) -> GraphError | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None
    return GraphError.model_validate(error)


def usage_wait_s(headers: httpx.Headers) -> float | None:
    """Seconds until Meta lets the account call again, from its usage headers, or None."""
    waits: list[float] = []
    buc = _json_header(headers, "x-business-use-case-usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else []:
                minutes = entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
                if isinstance(minutes, int | float) and minutes > 0:
                    waits.append(minutes * 60.0)
    app = _json_header(headers, "x-app-usage")
    if isinstance(app, dict) and any(
        isinstance(value, int | float) and value >= 100 for value in app.values()
    ):
        waits.append(APP_USAGE_WAIT_S)
    return max(waits) if waits else None


def _json_header(headers: httpx.Headers, name: str) -> Any:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


class GraphHttp(PlatformHttp):
    """PlatformHttp that reads Graph error bodies by their code (the status says little)."""

    def raise_for_status(self, response: httpx.Response, *, creates: bool = False) -> None:
        if response.is_success:
            return
        error = graph_error(response)
        if error is None or error.code is None:
            super().raise_for_status(response, creates=creates)
            return
        platform, status, words = self.platform, response.status_code, error.words
        code = error.code
        if code in THROTTLE_CODES or (code, error.error_subcode) == IG_PUBLISHING_LIMIT:
            wait = usage_wait_s(response.headers) or retry_after_s(response)
            raise Retryable(
                f"rate limited (Graph error {code}, HTTP {status})",
                platform=platform,
                platform_message=words,
                status_code=429,
                retry_after=wait,
            )
        if code in AUTH_CODES or 200 <= code <= 299:
            raise AuthFailure(
                f"credentials refused (Graph error {code})",
                platform=platform,
                platform_message=words,
                status_code=status,
            )
        if code in TRANSIENT_CODES or error.is_transient or status >= 500:
            if creates:
                # "An unknown error occurred" on a write: Meta may have made the post anyway.
                raise UnknownOutcome(
                    f"Graph error {code} on a write",
                    platform=platform,
                    platform_message=words,
                    status_code=status,
                )
            raise Retryable(
                f"Graph error {code}",
                platform=platform,
                platform_message=words,
                status_code=status,
                retry_after=retry_after_s(response),
            )
        raise Rejected(
            f"request refused (Graph error {code}/{error.error_subcode})",
            platform=platform,
            platform_message=words,
            status_code=status,
        )


class _UserToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: float | None = None


class FacebookLogin:
    """Facebook Login for Business, shared by the Facebook Pages and Instagram adapters
    (https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow, with PKCE,
    and https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived).

    The code gives a short-lived user token (about an hour), exchanged at once for a long-lived
    one (about 60 days). Page tokens read with a long-lived user token do not expire, so the
    connections these platforms make need no refresh; when a page token stops working (password
    change, removed permission) the API says 190 and the connection must be made again.
    """

    def __init__(self, http: GraphHttp, client_id: str, client_secret: SecretStr) -> None:
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret

    def authorize_url(self, state: str, code_challenge: str, redirect_uri: str, scopes: Sequence[str]) -> str:
        query = urlencode(
            {
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "state": state,
                "response_type": "code",
                "scope": ",".join(scopes),
                "code_challenge": code_challenge,
                "code_challenge_method": "S256",
            }
        )
        return f"{FACEBOOK_DIALOG}?{query}"

    async def long_lived_user_token(self, grant: AuthorizationGrant) -> str:
        if not isinstance(grant, AuthorizationCode):
            raise NotSupported("Meta connects with OAuth, not an app password", platform=self._http.platform)
        short = await self._token(
            {
                "client_id": self._client_id,
                "client_secret": self._client_secret.get_secret_value(),
                "redirect_uri": grant.redirect_uri,
                "code": grant.code,
                "code_verifier": grant.code_verifier,
            }
        )
        long_lived = await self._token(
            {
                "grant_type": "fb_exchange_token",
                "client_id": self._client_id,
                "client_secret": self._client_secret.get_secret_value(),
                "fb_exchange_token": short.access_token,
            }
        )
        return long_lived.access_token

    async def revoke(self, token: str) -> None:
        """Withdraws the app's permissions for the person behind the token (DELETE
        /me/permissions). With a Page token this removes the app from that page's grant."""
        await self._http.request("DELETE", f"{GRAPH_URL}/me/permissions", headers=bearer(token))

    async def _token(self, params: dict[str, str]) -> _UserToken:
        response = await self._http.request("GET", f"{GRAPH_URL}/oauth/access_token", params=params)
        return self._http.parse(response, _UserToken)


class _Paging(BaseModel):
    next: str | None = None


class Page(BaseModel):
    """A Facebook Page the person manages, as /me/accounts lists it (with its own token)."""

    id: str
    name: str
    access_token: str | None = None
    tasks: list[str] = []
    instagram_business_account: dict[str, str] | None = None


class _Pages(BaseModel):
    data: list[Page]
    paging: _Paging | None = None


MAX_PAGES_LISTED = 500  # /me/accounts pages through cursors; an agency login may own hundreds


async def managed_pages(http: GraphHttp, user_token: str, fields: str) -> list[Page]:
    """Every page the user token manages, following /me/accounts' `paging.next` links."""
    url: str | None = f"{GRAPH_URL}/me/accounts"
    params: dict[str, str] | None = {"fields": fields, "limit": "100"}
    found: list[Page] = []
    while url is not None and len(found) < MAX_PAGES_LISTED:
        response = await http.request("GET", url, params=params, headers=bearer(user_token))
        answer = http.parse(response, _Pages)
        found.extend(answer.data)
        url, params = (answer.paging.next if answer.paging else None), None  # next carries the query
    return found


class _Container(BaseModel):
    id: str
    status_code: str | None = None  # Instagram
    status: str | None = None  # Threads
    error_message: str | None = None


async def wait_for_container(
    http: GraphHttp,
    url: str,
    token: str,
    *,
    fields: str,
    attempts: int,
    interval_s: float,
    sleep: Any,
) -> None:
    """Poll a media container until Meta has fetched and processed its media (FINISHED).

    ERROR is the content refused for good (Rejected, Meta's words shown); EXPIRED (24 h
    unpublished) cannot happen to a container made moments ago and is treated the same. A
    container still IN_PROGRESS after every attempt is Retryable: nothing was published, and
    the next attempt makes a new container (an unpublished one simply expires)."""
    for _ in range(attempts):
        response = await http.request("GET", url, params={"fields": fields}, headers=bearer(token))
        container = http.parse(response, _Container)
        state = container.status_code or container.status
        if state in ("FINISHED", "PUBLISHED"):
            return
        if state in ("ERROR", "EXPIRED"):
            raise Rejected(
                f"the media could not be processed ({state})",
                platform=http.platform,
                platform_message=container.error_message or state,
            )
        await sleep(interval_s)
    raise Retryable(f"media still processing after {attempts} checks", platform=http.platform)


NO_SUCH_OBJECT = (100, 33)  # "Unsupported get request": the object does not exist (or is gone)


async def get_node(
    http: GraphHttp, token: str, node_id: str, fields: str, model: type[Model], *, base: str = GRAPH_URL
) -> Model | None:
    """A node's fields, or None when Graph says it does not exist (deleted, or never made)."""
    response = await http.request(
        "GET",
        f"{base}/{quote(node_id, safe='')}",
        params={"fields": fields},
        headers=bearer(token),
        tolerate={400, 404},
    )
    if response.status_code in (400, 404):
        error = graph_error(response)
        if response.status_code == 404 or (error and (error.code, error.error_subcode) == NO_SUCH_OBJECT):
            return None
        http.raise_for_status(response)
    return http.parse(response, model)


class _InsightValue(BaseModel):
    value: Any = None


class _Insight(BaseModel):
    name: str
    values: list[_InsightValue] = []
    total_value: _InsightValue | None = None  # Threads' and newer metrics' shape


class _Insights(BaseModel):
    data: list[_Insight]


def insight_values(http: GraphHttp, response: httpx.Response) -> dict[str, int]:
    """{metric name: latest value} of an /insights answer; a metric Meta did not return is
    absent here, never 0."""
    found: dict[str, int] = {}
    for insight in http.parse(response, _Insights).data:
        value = insight.values[-1].value if insight.values else None
        if value is None and insight.total_value is not None:
            value = insight.total_value.value
        if isinstance(value, int) and not isinstance(value, bool):
            found[insight.name] = value
    return found


def meta_scopes(asked: Sequence[str], ours: Sequence[str]) -> list[str]:
    """The permissions to ask for: ours, plus any Meta permission the caller named (the
    service's generic defaults, "read" and "write", are not Meta permissions)."""
    generic = {"read", "write"}
    return [*ours, *(scope for scope in asked if scope not in generic and scope not in ours)]


class _QuotaConfig(BaseModel):
    quota_total: int


class _Quota(BaseModel):
    quota_usage: int = 0
    config: _QuotaConfig | None = None


class _Quotas(BaseModel):
    data: list[_Quota]


# Publishing quotas roll over 24 h: an hour later some of the day's posts have aged out.
QUOTA_WAIT_S = 3600.0


async def check_publishing_quota(http: GraphHttp, url: str, token: str) -> None:
    """Instagram's content_publishing_limit and Threads' threads_publishing_limit: at the quota,
    Retryable as a rate limit (the account's bucket waits), and nothing is sent."""
    response = await http.request("GET", url, params={"fields": "quota_usage,config"}, headers=bearer(token))
    for quota in http.parse(response, _Quotas).data:
        if quota.config is not None and quota.quota_usage >= quota.config.quota_total:
            raise Retryable(
                f"the publishing limit is reached ({quota.quota_usage}/{quota.config.quota_total} in 24 h)",
                platform=http.platform,
                status_code=429,
                retry_after=QUOTA_WAIT_S,
            )
