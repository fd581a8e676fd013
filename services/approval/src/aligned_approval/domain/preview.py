"""How a post will appear on each of its platforms, for a reviewer (no I/O)."""

from __future__ import annotations

from typing import Any

from aligned_common.platforms import UnknownPlatform, check_content, get_platform, measure_text


def per_platform(content: str, targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target as it will post: its own text (a variant, else the job's), its media, and the
    first comment or thread parts and its per-platform fields when the job has them (absent keys
    are simply not shown)."""
    previews = []
    for target in targets:
        platform = target.get("platform", "")
        media = [m for m in target.get("media") or [] if isinstance(m, dict)]
        previews.append(
            {
                "target_id": target.get("target_id"),
                "platform": platform,
                **_fit(platform, target.get("text") or content),
                # publishing's, e.g. media without alt text: shown, they do not block
                "warnings": [w["message"] for w in target.get("warnings") or []],
                "media": media,
                "media_count": len(media) or len(target.get("media_ids") or []),
                "first_comment": target.get("first_comment") or None,
                "thread": [str(part) for part in target.get("thread") or [] if part],
                # per-platform fields (a YouTube title, a TikTok privacy level): approved with the post
                "options": sorted(
                    (str(k), str(v)) for k, v in (target.get("platform_options") or {}).items()
                ),
            }
        )
    return previews


def _fit(platform: str, content: str) -> dict[str, Any]:
    try:
        spec = get_platform(platform)
    except UnknownPlatform:
        return {
            "display_name": platform,
            "text": content,
            "length": None,
            "max_length": None,
            "fits": None,
            "problems": [],
        }
    problems = check_content(spec, content)
    return {
        "display_name": spec.display_name,
        "text": content,
        "length": measure_text(content, spec.limits.text.counting),
        "max_length": spec.limits.text.max_length,
        "fits": not problems,
        "problems": [p.message for p in problems],
    }
