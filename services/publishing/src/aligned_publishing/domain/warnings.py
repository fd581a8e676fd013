"""What approvers should know about a target's content that does not stop it (no I/O).

An image or video without alt text shuts out screen-reader users on every platform that takes
one; the post may still go out, so it is a warning carried to the approval round, not a 422.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from aligned_common.events.publishing import ContentWarning
from aligned_common.platforms import UnknownPlatform, get_platform


def alt_text_warnings(
    platform: str, media_ids: Sequence[uuid.UUID], alt_texts: Mapping[uuid.UUID, str]
) -> list[ContentWarning]:
    try:
        spec = get_platform(platform)
    except UnknownPlatform:
        return []
    limit = spec.limits.media.max_alt_text
    if limit is None:
        return []
    warnings = []
    for index, media_id in enumerate(media_ids):
        alt_text = alt_texts.get(media_id, "")
        if not alt_text:
            warnings.append(
                ContentWarning(
                    code="missing_alt_text",
                    field=f"media[{index}].alt_text",
                    media_id=media_id,
                    message=f"media item {index + 1} has no alt text: {spec.display_name} shows screen-reader users nothing",
                )
            )
        elif len(alt_text) > limit:
            warnings.append(
                ContentWarning(
                    code="alt_text_too_long",
                    field=f"media[{index}].alt_text",
                    media_id=media_id,
                    message=f"media item {index + 1}'s alt text is {len(alt_text)} characters; "
                    f"{spec.display_name} takes {limit}",
                )
            )
    return warnings
