"""What the handlers refuse: aligned_common.errors' kinds, with this service's titles."""

from aligned_common import errors


class BrandNotFound(errors.NotFound):  # no brand_created has reached this service (yet)
    title = "Brand not found"
