"""What the handlers refuse: aligned_common.errors' kinds, with this service's titles."""

from aligned_common import errors


class KitNotFound(errors.NotFound):  # this brand has no kit (yet), or no such version
    title = "Brand kit not found"


class StaleVersion(errors.PreconditionFailed):
    title = "Brand kit changed since it was read"


class VersionRequired(errors.PreconditionRequired):
    title = "If-Match required"
