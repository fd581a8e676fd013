"""How a post will appear on each of its platforms, for a reviewer (no I/O)."""

from __future__ import annotations

from typing import Any

from aligned_common.platforms import UnknownPlatform, check_content, get_platform, measure_text


def per_platform(content: str, targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    previews = []
    for target in targets:
        platform = target.get("platform", "")
        previews.append(
            {
                "target_id": target.get("target_id"),
                "platform": platform,
                **_fit(platform, content),
                # publishing's, e.g. media without alt text: shown, they do not block
                "warnings": [w["message"] for w in target.get("warnings") or []],
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
