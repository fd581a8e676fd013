"""Per-platform fields of a post (a YouTube title, a TikTok privacy level): what each platform
takes, of which type, which values, and which are required.

A target's `platform_options` are checked against its platform's declarations when a job is
created or edited, so a post TikTok would refuse for a missing privacy level is a 422 now, not
a failed publish later. Values are JSON strings or booleans; they travel to the adapters as
strings (`as_strings`: booleans "true"/"false"), as `PublishRequest.options` has always read them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class OptionKind(StrEnum):
    CHOICE = "choice"  # one of `choices`, exactly as written
    BOOLEAN = "boolean"  # JSON true or false
    TEXT = "text"  # a string, up to `max_length`, matching `pattern` if one is set


class PlatformOption(BaseModel):
    """One per-platform field, as the adapter reads it from `PublishRequest.options[name]`."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: OptionKind
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = Field(default=None, gt=0)
    pattern: str | None = None  # a regular expression the whole value must match (TEXT)
    forbidden_characters: str = ""  # characters the platform refuses in the value (TEXT)


class OptionCode(StrEnum):
    UNKNOWN_OPTION = "unknown_option"  # the platform takes no field of that name
    REQUIRED = "required"  # the platform needs it and it is missing
    WRONG_TYPE = "wrong_type"  # a string where true/false is wanted, or the reverse
    NOT_ALLOWED = "not_allowed"  # not one of the choices, or not of the required form
    TOO_LONG = "too_long"


class OptionViolation(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str  # the option's name: the field is "platform_options.<name>"
    code: OptionCode
    message: str
    limit: int | list[str] | None = None
    actual: int | str | None = None


OptionValue = str | bool


def check_options(
    declared: tuple[PlatformOption, ...], given: Mapping[str, object], platform: str
) -> list[OptionViolation]:
    """Every way `given` breaks the declarations: unknown names, missing required ones, values
    of the wrong type or outside what the platform takes. Empty when they fit."""
    by_name = {option.name: option for option in declared}
    problems = [
        OptionViolation(
            name=name,
            code=OptionCode.UNKNOWN_OPTION,
            message=f"{platform} takes no option {name!r}; it takes: {', '.join(by_name) or 'none'}",
            limit=sorted(by_name),
        )
        for name in given
        if name not in by_name
    ]
    for option in declared:
        if option.name not in given or given[option.name] is None:
            if option.required:
                problems.append(
                    OptionViolation(
                        name=option.name, code=OptionCode.REQUIRED, message=f"{platform} needs {option.name}"
                    )
                )
            continue
        problems.extend(_value_problems(option, given[option.name]))
    return problems


def _value_problems(option: PlatformOption, value: object) -> Iterator[OptionViolation]:
    name = option.name
    if option.kind is OptionKind.BOOLEAN:
        if not isinstance(value, bool):
            yield OptionViolation(name=name, code=OptionCode.WRONG_TYPE, message=f"{name} is true or false")
        return
    if not isinstance(value, str):
        yield OptionViolation(name=name, code=OptionCode.WRONG_TYPE, message=f"{name} is a string")
        return
    if option.kind is OptionKind.CHOICE:
        if value not in option.choices:
            yield OptionViolation(
                name=name,
                code=OptionCode.NOT_ALLOWED,
                message=f"{name} is one of {', '.join(option.choices)}, not {value!r}",
                limit=list(option.choices),
                actual=value,
            )
        return
    yield from _text_problems(option, value)


def _text_problems(option: PlatformOption, value: str) -> Iterator[OptionViolation]:
    name = option.name
    if option.max_length is not None and len(value) > option.max_length:
        yield OptionViolation(
            name=name,
            code=OptionCode.TOO_LONG,
            message=f"{name} is {len(value)} characters; the limit is {option.max_length}",
            limit=option.max_length,
            actual=len(value),
        )
    refused = sorted({c for c in value if c in option.forbidden_characters})
    if refused:
        yield OptionViolation(
            name=name,
            code=OptionCode.NOT_ALLOWED,
            message=f"{name} may not contain {' '.join(refused)}",
            actual="".join(refused),
        )
    if option.pattern is not None and re.fullmatch(option.pattern, value) is None:
        yield OptionViolation(
            name=name, code=OptionCode.NOT_ALLOWED, message=f"{name} is not of the form the platform takes"
        )
    if option.required and not value.strip():
        yield OptionViolation(name=name, code=OptionCode.REQUIRED, message=f"{name} may not be empty")


def as_strings(options: Mapping[str, OptionValue]) -> dict[str, str]:
    """The options as the adapters read them: booleans become "true"/"false"."""
    return {
        name: ("true" if value else "false") if isinstance(value, bool) else value
        for name, value in options.items()
    }


# -- the declarations, by platform (catalogue.py attaches them) -----------------------------
def _choice(
    name: str, choices: tuple[str, ...], description: str, *, required: bool = False
) -> PlatformOption:
    return PlatformOption(
        name=name, kind=OptionKind.CHOICE, choices=choices, description=description, required=required
    )


def _flag(name: str, description: str) -> PlatformOption:
    return PlatformOption(name=name, kind=OptionKind.BOOLEAN, description=description)


HTTP_URL = r"https?://\S+"

SANDBOX_OPTIONS = (
    _choice("visibility", ("public", "unlisted", "private"), "who sees the post (default public)"),
    _flag("sensitive", "shown behind a content warning (default false)"),
)

# X API v2, POST /2/tweets: reply_settings; without it everyone may reply.
X_OPTIONS = (
    _choice(
        "reply_settings",
        ("following", "mentionedUsers", "subscribers", "verified"),
        "who may reply (default: everyone)",
    ),
)

# Posts API: visibility PUBLIC or CONNECTIONS (members only; a page's post is PUBLIC);
# a video's title (Videos API media.title).
LINKEDIN_OPTIONS = (
    _choice(
        "visibility", ("PUBLIC", "CONNECTIONS"), "PUBLIC (default) or CONNECTIONS (a member's post only)"
    ),
    PlatformOption(name="video_title", kind=OptionKind.TEXT, max_length=200, description="a video's title"),
)

# videos.insert: snippet.title (required, up to 100 characters, no < or >), status.privacyStatus,
# status.selfDeclaredMadeForKids. A YouTube post is always a video, so the title is required.
YOUTUBE_OPTIONS = (
    PlatformOption(
        name="title",
        kind=OptionKind.TEXT,
        required=True,
        max_length=100,
        forbidden_characters="<>",
        description="the video's title (snippet.title); the text is its description",
    ),
    _choice("privacy", ("public", "unlisted", "private"), "status.privacyStatus (default public)"),
    _flag("made_for_kids", "status.selfDeclaredMadeForKids (default false)"),
)

# Content Posting API, direct post post_info: privacy_level is required with no default, one of
# the values creator_info answers for the creator (checked again at publish time).
TIKTOK_OPTIONS = (
    _choice(
        "privacy_level",
        ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"),
        "who sees the post; must also be among the creator's privacy_level_options",
        required=True,
    ),
    _flag("disable_comment", "no comments (forced on where the creator has them off)"),
    _flag("disable_duet", "no duets (videos)"),
    _flag("disable_stitch", "no stitches (videos)"),
    PlatformOption(name="title", kind=OptionKind.TEXT, max_length=90, description="a photo post's title"),
)

# /{page}/feed: link (a text or multi-image post's link preview).
FACEBOOK_OPTIONS = (
    PlatformOption(
        name="link", kind=OptionKind.TEXT, max_length=2048, pattern=HTTP_URL, description="the post's link"
    ),
)

# Content publishing: a video goes out as REELS (default) or STORIES.
INSTAGRAM_OPTIONS = (_choice("media_type", ("REELS", "STORIES"), "how a video is published (default REELS)"),)

# POST /{user}/threads: reply_control.
THREADS_OPTIONS = (
    _choice(
        "reply_control",
        ("everyone", "accounts_you_follow", "mentioned_only", "parent_post_author_only", "followers_only"),
        "who may reply (default everyone)",
    ),
)

# POST /pins: board_id (the connection's board unless given: a board of the same login), link
# (up to 2048), title (up to 100).
PINTEREST_OPTIONS = (
    PlatformOption(
        name="board_id",
        kind=OptionKind.TEXT,
        max_length=64,
        pattern=r"[0-9]+",
        description="another board of the same login to pin to (default: the connection's board)",
    ),
    PlatformOption(
        name="link", kind=OptionKind.TEXT, max_length=2048, pattern=HTTP_URL, description="the Pin's link"
    ),
    PlatformOption(name="title", kind=OptionKind.TEXT, max_length=100, description="the Pin's title"),
)
