"""What the service layer refuses, in the service's words; the HTTP entrypoint maps each to an
RFC 9457 problem (entrypoints/http.py), the service layer knows nothing of status codes."""

from __future__ import annotations


class ConnectionsError(Exception):
    """A request the service will not do; `detail` says why, for the caller."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConnectionNotFound(ConnectionsError):
    pass


class ConnectionNotActive(ConnectionsError):
    pass


class NothingToRefresh(ConnectionsError):
    pass


class UnknownPlatform(ConnectionsError):
    pass


class InvalidOAuthState(ConnectionsError):
    pass


class WrongConnectFlow(ConnectionsError):
    """The platform connects another way (app password vs redirect)."""

    def __init__(self, detail: str, *, redirect: bool) -> None:
        super().__init__(detail)
        self.redirect = redirect  # True: the platform has no redirect flow (start was asked)


class AuthorizationRefused(ConnectionsError):
    def __init__(self, detail: str, platform_message: str | None) -> None:
        super().__init__(detail)
        self.platform_message = platform_message


class PlatformUnavailable(ConnectionsError):
    def __init__(self, detail: str, retry_after_s: int = 5) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class PlatformAnsweredUnexpectedly(ConnectionsError):
    pass
