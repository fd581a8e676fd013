"""What the service layer refuses, in the service's words; the HTTP entrypoint maps each to an
RFC 9457 problem (entrypoints/problems.py)."""

from __future__ import annotations


class WebhooksError(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class EndpointNotFound(WebhooksError):
    pass


class DeliveryNotFound(WebhooksError):
    pass


class DeliveryStillPending(WebhooksError):
    """A replay of a delivery that is still being retried."""


class RefusedUrl(WebhooksError):
    """The endpoint's URL is not one we deliver to (the SSRF guard said no)."""
