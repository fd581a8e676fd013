"""Does a job fit every platform it targets? Checked on create and edit, so a misfit is a
422 now rather than a failed publish hours later. The limits are the shared catalogue's."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aligned_common.platforms import (
    MediaInfo,
    PlatformSpec,
    UnknownPlatform,
    check_content,
    check_options,
    get_platform,
)


@dataclass(frozen=True)
class TargetDraft:
    platform: str
    connection_id: uuid.UUID
    text: str | None = None  # per-account variant; None: the job's content
    media_ids: tuple[uuid.UUID, ...] | None = None  # per-account variant; None: the job's media
    alt_texts: Mapping[uuid.UUID, str] | None = None  # per-account alt text of some of its media
    first_comment: str | None = None  # resolved for this account (its own or the job's); None: none
    # Per-platform fields (the catalogue's declarations); None: none given.
    platform_options: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class FitError:
    field: str  # e.g. "targets[1].text" or "media_ids[0]"
    message: str
    platform: str | None = None
    code: str | None = None
    limit: object = None
    actual: object = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def check_job_fits(
    content: str,
    media_ids: Sequence[uuid.UUID],
    targets: Sequence[TargetDraft],
    media: Mapping[uuid.UUID, MediaInfo],
    fitted: Mapping[tuple[uuid.UUID, str], MediaInfo] | None = None,
) -> list[FitError]:
    """Every reason the job cannot be posted as written; empty when it fits everywhere.
    `fitted` holds the variants made for a platform, (media_id, platform) -> what that
    platform is sent instead of the original (adapters/variants.py)."""
    errors = [*_unknown_media("media_ids", media_ids, media)]
    if not targets:
        errors.append(FitError("targets", "a job needs at least one target connection"))
    for index, target in enumerate(targets):
        errors.extend(_target_errors(index, target, content, media_ids, media, fitted or {}))
    return errors


def _unknown_media(
    field: str, media_ids: Sequence[uuid.UUID], media: Mapping[uuid.UUID, MediaInfo]
) -> list[FitError]:
    return [
        FitError(f"{field}[{i}]", f"no media {m} in this brand")
        for i, m in enumerate(media_ids)
        if m not in media
    ]


def _target_errors(
    index: int,
    target: TargetDraft,
    content: str,
    media_ids: Sequence[uuid.UUID],
    media: Mapping[uuid.UUID, MediaInfo],
    fitted: Mapping[tuple[uuid.UUID, str], MediaInfo],
) -> list[FitError]:
    prefix = f"targets[{index}]"
    try:
        spec = get_platform(target.platform)
    except UnknownPlatform as exc:
        return [FitError(f"{prefix}.platform", str(exc), platform=target.platform)]
    chosen_ids = list(target.media_ids) if target.media_ids is not None else list(media_ids)
    errors = _unknown_media(f"{prefix}.media_ids", chosen_ids, media) if target.media_ids is not None else []
    errors += [
        FitError(f"{prefix}.alt_texts.{m}", "this account does not post that media item")
        for m in (target.alt_texts or {})
        if m not in chosen_ids
    ]
    infos = [fitted.get((m, spec.name), media[m]) for m in chosen_ids if m in media]
    text = target.text if target.text is not None else content
    violations = [(f"{prefix}.{v.field}", v) for v in check_content(spec, text, infos)]
    if target.first_comment is not None:
        if not spec.capabilities.first_comment:
            errors.append(
                FitError(
                    f"{prefix}.first_comment",
                    f"{spec.display_name} cannot publish a first comment",
                    platform=spec.name,
                    code="not_supported",
                )
            )
        else:  # the comment is a post of its own (text only): the same limits apply to it
            violations += [
                (f"{prefix}.first_comment", v) for v in check_content(spec, target.first_comment, [])
            ]
    errors += _option_errors(prefix, spec, target.platform_options or {})
    for field, violation in violations:
        errors.append(
            FitError(
                field,
                f"{spec.display_name}: {violation.message}",
                platform=spec.name,
                code=violation.code.value,
                limit=violation.limit,
                actual=violation.actual,
            )
        )
    return errors


def _option_errors(prefix: str, spec: PlatformSpec, given: Mapping[str, Any]) -> list[FitError]:
    """The target's platform_options against what its platform declares (names, types, values)."""
    return [
        FitError(
            f"{prefix}.platform_options.{v.name}",
            f"{spec.display_name}: {v.message}",
            platform=spec.name,
            code=v.code.value,
            limit=v.limit,
            actual=v.actual,
        )
        for v in check_options(spec.options, given, spec.display_name)
    ]
