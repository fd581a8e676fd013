"""What the service layer refuses: aligned_common.errors' kinds with the connections service's
titles; the HTTP entrypoint answers each as its RFC 9457 problem (aligned_common.problems), the
service layer knows nothing of status codes."""

from __future__ import annotations

from aligned_common import errors


class ConnectionNotFound(errors.NotFound):
    title = "Connection not found"


class UnknownPlatform(errors.NotFound):
    title = "Unknown platform"


class ConnectionNotActive(errors.Conflict):
    title = "Connection is not active"


class NothingToRefresh(errors.Conflict):
    title = "Nothing to refresh"


class InvalidOAuthState(errors.BadRequest):
    title = "Invalid OAuth state"


class WrongConnectFlow(errors.Conflict):
    """The platform connects another way (app password vs redirect)."""

    def __init__(self, detail: str, *, redirect: bool) -> None:
        super().__init__(
            detail,
            title="This platform connects without a redirect"
            if redirect
            else "This platform does not connect this way",
        )
        self.redirect = redirect  # True: the platform has no redirect flow (start was asked)


class AuthorizationRefused(errors.BadRequest):
    title = "The platform refused the authorization"

    def __init__(self, detail: str, platform_message: str | None) -> None:
        super().__init__(detail, platform_message=platform_message)
        self.platform_message = platform_message


class PlatformUnavailable(errors.Unavailable):
    title = "The platform is unavailable"

    def __init__(self, detail: str, retry_after_s: int = 5) -> None:
        super().__init__(detail, retry_after=retry_after_s)
        self.retry_after_s = retry_after_s


class PlatformAnsweredUnexpectedly(errors.BadGateway):
    title = "The platform answered unexpectedly"
