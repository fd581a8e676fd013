"""HTTP to a platform, with every failure turned into one of the typed errors of errors.py.

The one distinction that matters most is whether a failed write may have taken effect. Before
the request is on the wire (cannot connect, no free connection) nothing happened: Retryable.
After it was sent (read timeout, dropped connection) a write's outcome is unknown.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from aligned_connections.adapters.platforms.errors import (
    AuthFailure,
    PlatformError,
    Rejected,
    Retryable,
    UnknownOutcome,
)

# Explicit on every request, so that an injected client without timeouts still has them.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)

# OAuth and platform error codes that mean "these credentials are no good".
DEFAULT_AUTH_ERROR_CODES = frozenset({"invalid_grant", "invalid_token"})

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_SENT_BUT_LOST = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)

Model = TypeVar("Model", bound=BaseModel)


class PlatformHttp:
    def __init__(
        self,
        platform: str,
        client: httpx.AsyncClient,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        auth_error_codes: Collection[str] = DEFAULT_AUTH_ERROR_CODES,
        classify: Callable[[httpx.Response], PlatformError | None] | None = None,
    ) -> None:
        self.platform = platform
        self._client = client
        self._timeout = timeout
        self._auth_error_codes = frozenset(auth_error_codes)
        # A platform's own reading of its documented error bodies (e.g. YouTube's quotaExceeded
        # is a 403 that must be retried, TikTok's access_token_invalid a 401), asked first; None
        # leaves the answer to the generic mapping below.
        self._classify = classify

    @property
    def client(self) -> httpx.AsyncClient:
        """The shared client (also what reads media from the object store)."""
        return self._client

    async def request(
        self,
        method: str,
        url: str,
        *,
        creates: bool = False,
        tolerate: Collection[int] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send and check the answer.

        `creates`: the request makes something (a post) that a repeat would make twice, so a lost
        answer is an UnknownOutcome rather than Retryable. `tolerate`: statuses the caller handles
        itself (e.g. 404 meaning "no such post").
        """
        kwargs.setdefault("timeout", self._timeout)
        try:
            response = await self._client.request(method, url, **kwargs)
        except _NOT_SENT as error:
            raise Retryable(
                f"could not reach the platform: {type(error).__name__}", platform=self.platform
            ) from error
        except _SENT_BUT_LOST as error:
            if creates:
                raise UnknownOutcome(
                    f"sent, but the answer was lost: {type(error).__name__}", platform=self.platform
                ) from error
            raise Retryable(f"the answer was lost: {type(error).__name__}", platform=self.platform) from error
        if response.status_code not in tolerate:
            self.raise_for_status(response, creates=creates)
        return response

    def raise_for_status(self, response: httpx.Response, *, creates: bool = False) -> None:
        if response.is_success:
            return
        if self._classify is not None and (error := self._classify(response)) is not None:
            raise error
        status = response.status_code
        code, message = error_details(response)
        platform = self.platform
        if status == 504 and creates:
            # A gateway gave up waiting for the platform, which may still have made the post.
            raise UnknownOutcome(
                "the platform's gateway timed out",
                platform=platform,
                platform_message=message,
                status_code=status,
            )
        if status == 429 or status == 408 or status >= 500:
            raise Retryable(
                f"HTTP {status}",
                platform=platform,
                platform_message=message,
                status_code=status,
                retry_after=retry_after_s(response),
            )
        if status == 401 or code in self._auth_error_codes:
            raise AuthFailure(
                f"credentials refused (HTTP {status})",
                platform=platform,
                platform_message=message,
                status_code=status,
            )
        raise Rejected(
            f"request refused (HTTP {status})",
            platform=platform,
            platform_message=message,
            status_code=status,
        )

    def parse(self, response: httpx.Response, model: type[Model], *, creates: bool = False) -> Model:
        """The body as `model`. A success we cannot read is an error of its own: for a write it
        still probably took effect, so it is an unknown outcome."""
        try:
            return model.model_validate_json(response.content)
        except ValidationError as error:
            message = f"unexpected answer: {error.error_count()} problem(s) reading {model.__name__}"
            if creates:
                raise UnknownOutcome(
                    message, platform=self.platform, status_code=response.status_code
                ) from error
            raise PlatformError(message, platform=self.platform, status_code=response.status_code) from error

    def parse_list(self, response: httpx.Response, model: type[Model]) -> list[Model]:
        try:
            return TypeAdapter(list[model]).validate_json(response.content)  # type: ignore[valid-type]
        except ValidationError as error:
            raise PlatformError(
                f"unexpected answer: {error.error_count()} problem(s) reading a list of {model.__name__}",
                platform=self.platform,
                status_code=response.status_code,
            ) from error


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_details(response: httpx.Response) -> tuple[str | None, str | None]:
    """The platform's error code and its own words: OAuth {error, error_description}, XRPC
    {error, message}, Mastodon {error}, RFC 9457 problems {title, detail} (X), or the raw text."""
    try:
        body = response.json()
    except ValueError:
        return None, response.text[:500] or None
    if not isinstance(body, dict):
        return None, response.text[:500]
    code = body.get("error") if isinstance(body.get("error"), str) else None
    detail = body.get("error_description") or body.get("message") or body.get("detail") or body.get("title")
    words = ": ".join(str(part) for part in (code, detail) if part)
    return code, words or response.text[:500]


def retry_after_s(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait, from Retry-After (seconds or an HTTP date) or a rate-limit reset header
    (epoch seconds as on Bluesky and X, an ISO time as on Mastodon)."""
    headers = response.headers
    if (value := headers.get("retry-after")) is not None:
        return _seconds_or_http_date(value, now())
    for name in ("ratelimit-reset", "x-ratelimit-reset", "x-rate-limit-reset"):
        if (value := headers.get(name)) is not None:
            return _reset_time(value, now())
    return None


# (remaining, reset) header pairs: a window whose remaining count is 0 is spent until its reset.
RATE_LIMIT_WINDOWS = (
    ("x-rate-limit-remaining", "x-rate-limit-reset"),  # X, per endpoint (15 minutes)
    ("x-user-limit-24hour-remaining", "x-user-limit-24hour-reset"),  # X, posts per user a day
    ("x-app-limit-24hour-remaining", "x-app-limit-24hour-reset"),  # X, posts per app a day
    ("ratelimit-remaining", "ratelimit-reset"),
    ("x-ratelimit-remaining", "x-ratelimit-reset"),
)


def spent_for_s(response: httpx.Response, now: Callable[[], float] = time.time) -> float | None:
    """How long the account must wait, from the longest rate-limit window the answer says is
    spent (remaining 0), even on a success: the bucket then waits instead of meeting a 429."""
    waits = [
        wait
        for remaining, reset in RATE_LIMIT_WINDOWS
        if response.headers.get(remaining) == "0"
        and (value := response.headers.get(reset)) is not None
        and (wait := _reset_time(value, now())) is not None
    ]
    return max(waits) if waits else None


def _seconds_or_http_date(value: str, now: float) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _reset_time(value: str, now: float) -> float | None:
    try:
        number = float(value)
    except ValueError:
        try:
            return max(0.0, datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now)
        except ValueError:
            return None
    # Small numbers are a delay (IETF RateLimit draft), large ones a moment (epoch seconds).
    return max(0.0, number - now) if number > 1_000_000_000 else max(0.0, number)
