"""What the service layer refuses: aligned_common.errors' kinds with the webhooks service's
titles; the HTTP entrypoint answers each as its RFC 9457 problem (aligned_common.problems)."""

from __future__ import annotations

from aligned_common import errors


class EndpointNotFound(errors.NotFound):
    title = "Endpoint not found"


class DeliveryNotFound(errors.NotFound):
    title = "Delivery not found"


class DeliveryStillPending(errors.Conflict):
    """A replay of a delivery that is still being retried."""

    title = "Delivery still pending"


class RefusedUrl(errors.Invalid):
    """The endpoint's URL is not one we deliver to (the SSRF guard said no): a validation error
    of the field, like the request's other invalid fields."""

    title = "Invalid request"

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid fields: url ({reason})", errors=[{"field": "url", "message": reason}])
