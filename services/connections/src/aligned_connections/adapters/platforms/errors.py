"""What can go wrong when calling a platform, sorted by what the caller must do about it.

| error          | meaning                                             | caller's move                        |
|----------------|-----------------------------------------------------|--------------------------------------|
| Retryable      | nothing happened, or repeating is harmless          | retry after `retry_after` or backoff |
| UnknownOutcome | a write was sent and its answer lost                | ask the platform, never re-send      |
| AuthFailure    | the token or credentials are refused                | refresh; if refresh fails, reconnect |
| Rejected       | the platform refused this request for good          | report it; a retry gets the same     |
| NotSupported   | this platform has no such operation                 | a different flow (e.g. app password) |

Every error keeps the platform's own words in `platform_message`, for the user and for support.
"""

from __future__ import annotations


class PlatformError(Exception):
    def __init__(
        self,
        message: str,
        *,
        platform: str,
        platform_message: str | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(f"{platform}: {message}" + (f" ({platform_message})" if platform_message else ""))
        self.platform = platform
        self.platform_message = platform_message
        self.status_code = status_code


class Retryable(PlatformError):
    def __init__(
        self,
        message: str,
        *,
        platform: str,
        platform_message: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, platform=platform, platform_message=platform_message, status_code=status_code
        )
        self.retry_after = retry_after  # seconds the platform asked us to wait, if it said


class AuthFailure(PlatformError):
    """401, invalid_grant and their kin. From an API call: refresh the token and try once more.
    From refresh itself: the connection is dead and the user must connect again."""


class Rejected(PlatformError):
    """The platform refused the content or the request (400, 403, 404, 422): not retryable."""


class UnknownOutcome(PlatformError):
    """A write reached the platform but its answer did not reach us (a read timeout, a dropped
    connection, a 504 from a proxy). The post may exist: look for it before any retry."""

    def __init__(
        self,
        message: str,
        *,
        platform: str,
        platform_message: str | None = None,
        status_code: int | None = None,
        remote_id: str | None = None,
    ) -> None:
        super().__init__(
            message, platform=platform, platform_message=platform_message, status_code=status_code
        )
        # Where the platform's id is fixed in advance (Bluesky's record key), the id to check with
        # get_post_status; otherwise None, and find_post_by_marker is the way to look.
        self.remote_id = remote_id


class NotSupported(PlatformError):
    """The platform does not offer this operation at all."""
