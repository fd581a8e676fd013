"""The platforms Aligned knows, and what every service may know about them without a token.

Figures are the platforms' published defaults. A Mastodon instance can raise its own limits;
checking against the defaults refuses a little more than the instance would, never less.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

from aligned_common.platforms import options as opt
from aligned_common.platforms.errors import UnknownPlatform
from aligned_common.platforms.limits import ContentLimits, MediaGroup, MediaLimits, TextCounting, TextLimits
from aligned_common.platforms.options import PlatformOption

MB = 1_000_000
MIB = 1024 * 1024


class ConnectFlow(StrEnum):
    """How a user connects an account, which decides the screens the frontend shows."""

    OAUTH2_PKCE = "oauth2_pkce"
    # Bluesky: the user creates an app password and gives it to us once; there is no redirect.
    APP_PASSWORD = "app_password"


class WebhookScheme(StrEnum):
    STANDARD_WEBHOOKS = "standard_webhooks"  # https://www.standardwebhooks.com, see standard_webhooks.py
    # Meta's Webhooks (Facebook Pages, Instagram, Threads): X-Hub-Signature-256, the HMAC-SHA256
    # of the raw body with the app secret, and a GET hub.challenge to subscribe; see meta_webhooks.py.
    META_HUB_SIGNATURE = "meta_hub_signature"


class Capabilities(BaseModel):
    """What a platform (and our adapter for it) can do beyond a single post; publishing refuses a
    job asking for more with a 422 naming the field, at create time, not with a failure later."""

    model_config = ConfigDict(frozen=True)

    replies: bool = False  # a post can answer another (in_reply_to, reply refs)
    first_comment: bool = False  # a reply to our own post right after it
    threads: bool = False  # a chain of our posts, each replying to the one before


class PlatformSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    display_name: str
    connect_flow: ConnectFlow
    limits: ContentLimits
    # None where the platform sends us no webhooks for a connected account.
    webhook_scheme: WebhookScheme | None = None
    capabilities: Capabilities = Capabilities()
    # The per-platform fields a target's platform_options may carry (options.py); any other
    # name is refused at create time, as is a missing required one.
    options: tuple[PlatformOption, ...] = ()


_SANDBOX = PlatformSpec(
    name="sandbox",
    display_name="Sandbox",
    connect_flow=ConnectFlow.OAUTH2_PKCE,
    limits=ContentLimits(
        text=TextLimits(max_length=1000, counting=TextCounting.CODE_POINTS),
        media=MediaLimits(
            max_items=4,
            mixed_groups_allowed=False,
            max_alt_text=1500,  # like Mastodon's
            groups=(
                # Shaped like Instagram's feed, so fitting is exercised end to end: landscape up
                # to 1.91:1, portrait down to 9:16 (Instagram's feed stops at 4:5).
                MediaGroup(
                    name="image",
                    max_bytes=8 * MIB,
                    max_per_post=4,
                    min_aspect_ratio=9 / 16,
                    max_aspect_ratio=1.91,
                    mime_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
                ),
                MediaGroup(
                    name="video",
                    max_bytes=64 * MIB,
                    max_per_post=1,
                    max_duration_s=140,
                    video_codecs=frozenset({"h264", "hevc"}),
                    mime_types=frozenset({"video/mp4", "video/quicktime"}),
                ),
            ),
        ),
    ),
    webhook_scheme=WebhookScheme.STANDARD_WEBHOOKS,
    capabilities=Capabilities(replies=True, first_comment=True, threads=True),
    options=opt.SANDBOX_OPTIONS,
)

_MASTODON = PlatformSpec(
    name="mastodon",
    display_name="Mastodon",
    connect_flow=ConnectFlow.OAUTH2_PKCE,
    limits=ContentLimits(
        text=TextLimits(max_length=500, counting=TextCounting.MASTODON),
        media=MediaLimits(
            max_items=4,
            mixed_groups_allowed=False,  # "up to 4 images, or 1 video"
            max_alt_text=1500,  # MAX_DESCRIPTION_LENGTH of media attachments
            groups=(
                MediaGroup(
                    name="image",
                    max_bytes=16 * MIB,
                    max_per_post=4,
                    mime_types=frozenset(
                        {
                            "image/jpeg",
                            "image/png",
                            "image/gif",
                            "image/webp",
                            "image/heic",
                            "image/heif",
                            "image/avif",
                        }
                    ),
                ),
                # Mastodon bounds a video by size and frame count, not by duration; it transcodes
                # what FFmpeg decodes, so any codec goes.
                MediaGroup(
                    name="video",
                    max_bytes=99 * MIB,
                    max_per_post=1,
                    mime_types=frozenset({"video/mp4", "video/webm", "video/quicktime"}),
                ),
            ),
        ),
    ),
    # Mastodon's own webhooks are for instance admins only, never for a connected user account.
    webhook_scheme=None,
    capabilities=Capabilities(replies=True, first_comment=True, threads=True),
)

_BLUESKY = PlatformSpec(
    name="bluesky",
    display_name="Bluesky",
    connect_flow=ConnectFlow.APP_PASSWORD,
    limits=ContentLimits(
        # app.bsky.feed.post: text maxGraphemes 300 and maxLength 3000 (UTF-8 bytes).
        text=TextLimits(max_length=300, counting=TextCounting.GRAPHEMES, max_utf8_bytes=3000),
        media=MediaLimits(
            max_items=4,
            mixed_groups_allowed=False,  # an embed is either images or one video
            max_alt_text=2000,  # the app's limit (the lexicon sets none)
            groups=(
                MediaGroup(
                    name="image",
                    max_bytes=1 * MB,
                    max_per_post=4,  # app.bsky.embed.images
                    mime_types=frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"}),
                ),
                MediaGroup(
                    name="video",
                    max_bytes=100 * MB,
                    max_per_post=1,
                    max_duration_s=180,
                    # docs.bsky.app "Video": MP4 with H.264 (the app transcodes to HLS).
                    video_codecs=frozenset({"h264"}),
                    mime_types=frozenset({"video/mp4"}),
                ),
            ),
        ),
    ),
    webhook_scheme=None,  # Bluesky has no webhooks; events come from the firehose
    capabilities=Capabilities(replies=True, first_comment=True, threads=True),
)

_X = PlatformSpec(
    name="x",
    display_name="X",
    connect_flow=ConnectFlow.OAUTH2_PKCE,
    limits=ContentLimits(
        text=TextLimits(max_length=280, counting=TextCounting.TWITTER_WEIGHTED),
        media=MediaLimits(
            max_items=4,
            mixed_groups_allowed=False,  # up to 4 images, or 1 GIF, or 1 video
            max_alt_text=1000,  # POST /2/media/metadata: alt_text up to 1000 characters
            groups=(
                MediaGroup(
                    name="image",
                    max_bytes=5 * MB,
                    max_per_post=4,
                    mime_types=frozenset({"image/jpeg", "image/png", "image/webp"}),
                ),
                MediaGroup(
                    name="gif", max_bytes=15 * MB, max_per_post=1, mime_types=frozenset({"image/gif"})
                ),
                # developer.x.com "Media best practices": images 5 MB (larger ones get a fitted
                # variant), videos H.264 (High profile), up to 512 MB and 140 s.
                MediaGroup(
                    name="video",
                    max_bytes=512 * MB,
                    max_per_post=1,
                    max_duration_s=140,
                    video_codecs=frozenset({"h264"}),
                    mime_types=frozenset({"video/mp4", "video/quicktime"}),
                ),
            ),
        ),
    ),
    # X's Account Activity webhooks (CRC challenge + body HMAC) are not supported yet.
    webhook_scheme=None,
    options=opt.X_OPTIONS,
)

_LINKEDIN = PlatformSpec(
    name="linkedin",
    display_name="LinkedIn",
    connect_flow=ConnectFlow.OAUTH2_PKCE,  # the redirect flow (LinkedIn's takes no PKCE; see its adapter)
    limits=ContentLimits(
        # Posts API: commentary up to 3000 characters.
        text=TextLimits(max_length=3000, counting=TextCounting.CODE_POINTS),
        media=MediaLimits(
            max_items=20,
            mixed_groups_allowed=False,  # images (1, or 2-20 as multiImage), or one video
            max_alt_text=4086,  # Posts API media altText
            groups=(
                # Images API: JPG, PNG, GIF; under 36,152,320 pixels; 5 MB as LinkedIn's help states.
                MediaGroup(
                    name="image",
                    max_bytes=5 * MB,
                    max_per_post=20,
                    mime_types=frozenset({"image/jpeg", "image/png", "image/gif"}),
                ),
                # Videos API: MP4, 75 KB to 500 MB, 3 s to 30 min.
                MediaGroup(
                    name="video",
                    max_bytes=500 * MB,
                    max_per_post=1,
                    max_duration_s=30 * 60,
                    mime_types=frozenset({"video/mp4"}),
                ),
            ),
        ),
    ),
    webhook_scheme=None,  # LinkedIn's webhooks are for approved partners only
    options=opt.LINKEDIN_OPTIONS,
)

_YOUTUBE = PlatformSpec(
    name="youtube",
    display_name="YouTube",
    connect_flow=ConnectFlow.OAUTH2_PKCE,
    limits=ContentLimits(
        # The text is the video's description: 5000 bytes (the title, 100 characters, is a field).
        text=TextLimits(max_length=5000, counting=TextCounting.CODE_POINTS, max_utf8_bytes=5000),
        media=MediaLimits(
            max_items=1,
            mixed_groups_allowed=False,
            max_alt_text=None,
            groups=(
                # videos.insert: up to 256 GB; 15 minutes unless the channel is verified (then 12 h).
                MediaGroup(
                    name="video",
                    max_bytes=256 * 1024 * MIB,
                    max_per_post=1,
                    max_duration_s=15 * 60,
                    mime_types=frozenset(
                        {"video/mp4", "video/quicktime", "video/webm", "video/x-msvideo", "video/mpeg"}
                    ),
                ),
            ),
        ),
        requires_media=True,
    ),
    webhook_scheme=None,  # YouTube's PubSubHubbub feed is not supported
    options=opt.YOUTUBE_OPTIONS,
)

_TIKTOK = PlatformSpec(
    name="tiktok",
    display_name="TikTok",
    connect_flow=ConnectFlow.OAUTH2_PKCE,  # the redirect flow (TikTok's web login takes no PKCE)
    limits=ContentLimits(
        # Direct post: a video's caption up to 2200 UTF-16 code units (counted here in code
        # points, so an emoji-heavy caption near the limit may still be refused by TikTok).
        text=TextLimits(max_length=2200, counting=TextCounting.CODE_POINTS),
        media=MediaLimits(
            max_items=35,
            mixed_groups_allowed=False,  # one video, or up to 35 photos
            max_alt_text=None,
            groups=(
                # Photo posts: JPEG or WebP, 20 MB each, pulled from a domain verified with TikTok.
                MediaGroup(
                    name="image",
                    max_bytes=20 * MB,
                    max_per_post=35,
                    mime_types=frozenset({"image/jpeg", "image/webp"}),
                ),
                # Media transfer guide: MP4 (recommended), WebM, MOV; H.264/H.265/VP8/VP9; up to
                # 4 GB; duration up to 10 min, lower where creator_info's
                # max_video_post_duration_sec says so.
                MediaGroup(
                    name="video",
                    max_bytes=4 * 1024 * MIB,
                    max_per_post=1,
                    max_duration_s=10 * 60,
                    video_codecs=frozenset({"h264", "hevc", "vp8", "vp9"}),
                    mime_types=frozenset({"video/mp4", "video/webm", "video/quicktime"}),
                ),
            ),
        ),
        requires_media=True,
    ),
    webhook_scheme=None,  # TikTok's webhooks are not supported
    options=opt.TIKTOK_OPTIONS,
)

# --- Meta (Facebook Pages, Instagram, Threads) and Pinterest -------------------------------
# Figures from each API's publishing reference, named per entry; see connections' adapters.

_FACEBOOK = PlatformSpec(
    name="facebook",
    display_name="Facebook Pages",
    connect_flow=ConnectFlow.OAUTH2_PKCE,
    limits=ContentLimits(
        # A page post's message: 63,206 characters.
        text=TextLimits(max_length=63_206, counting=TextCounting.CODE_POINTS),
        media=MediaLimits(
            max_items=10,
            mixed_groups_allowed=False,  # the adapter posts photos (attached_media) or one video
            max_alt_text=1000,  # alt_text_custom: Meta documents no limit; Instagram's is kept
            groups=(
                # /{page}/photos: JPEG, PNG, GIF, BMP, TIFF up to 4 MB.
                MediaGroup(
                    name="image",
                    max_bytes=4 * MB,
                    max_per_post=10,
                    mime_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff"}),
                ),
                # /{page}/videos with `source` (non-resumable upload): up to 1 GB and 20 minutes.
                MediaGroup(
                    name="video",
                    max_bytes=1000 * MB,
                    max_per_post=1,
                    max_duration_s=20 * 60,
                    mime_types=frozenset({"video/mp4", "video/quicktime"}),
                ),
            ),
        ),
    ),
    webhook_scheme=WebhookScheme.META_HUB_SIGNATURE,
    options=opt.FACEBOOK_OPTIONS,
)

_INSTAGRAM = PlatformSpec(
    name="instagram",
    display_name="Instagram",
    connect_flow=ConnectFlow.OAUTH2_PKCE,
    limits=ContentLimits(
        # Captions: 2,200 characters (and at most 30 hashtags and 20 @-mentions).
        text=TextLimits(max_length=2200, counting=TextCounting.CODE_POINTS),
        requires_media=True,
        media=MediaLimits(
            max_items=10,  # a carousel: up to 10 images and videos
            mixed_groups_allowed=True,
            max_alt_text=1000,
            groups=(
                # Content publishing: JPEG only, up to 8 MB, aspect ratio 4:5 to 1.91:1.
                MediaGroup(
                    name="image",
                    max_bytes=8 * MIB,
                    max_per_post=10,
                    min_aspect_ratio=4 / 5,
                    max_aspect_ratio=1.91,
                    mime_types=frozenset({"image/jpeg"}),
                ),
                # Reels: MOV or MP4, HEVC or H.264, up to 300 MB and 15 minutes.
                MediaGroup(
                    name="video",
                    max_bytes=300 * MB,
                    max_per_post=10,
                    max_duration_s=15 * 60,
                    video_codecs=frozenset({"h264", "hevc"}),
                    mime_types=frozenset({"video/mp4", "video/quicktime"}),
                ),
            ),
        ),
    ),
    webhook_scheme=WebhookScheme.META_HUB_SIGNATURE,
    options=opt.INSTAGRAM_OPTIONS,
)

_THREADS = PlatformSpec(
    name="threads",
    display_name="Threads",
    connect_flow=ConnectFlow.OAUTH2_PKCE,
    limits=ContentLimits(
        text=TextLimits(max_length=500, counting=TextCounting.CODE_POINTS),  # "500 characters"
        media=MediaLimits(
            max_items=20,  # a carousel: 2 to 20 images and videos
            mixed_groups_allowed=True,
            max_alt_text=1000,
            groups=(
                # JPEG or PNG, up to 8 MB, aspect ratio at most 10:1.
                MediaGroup(
                    name="image",
                    max_bytes=8 * MB,
                    max_per_post=20,
                    min_aspect_ratio=1 / 10,
                    max_aspect_ratio=10,
                    mime_types=frozenset({"image/jpeg", "image/png"}),
                ),
                # MOV or MP4, HEVC or H.264, up to 1 GB and 5 minutes.
                MediaGroup(
                    name="video",
                    max_bytes=1000 * MB,
                    max_per_post=20,
                    max_duration_s=300,
                    video_codecs=frozenset({"h264", "hevc"}),
                    mime_types=frozenset({"video/mp4", "video/quicktime"}),
                ),
            ),
        ),
    ),
    webhook_scheme=WebhookScheme.META_HUB_SIGNATURE,
    options=opt.THREADS_OPTIONS,
)

_PINTEREST = PlatformSpec(
    name="pinterest",
    display_name="Pinterest",
    connect_flow=ConnectFlow.OAUTH2_PKCE,
    limits=ContentLimits(
        # POST /pins: description up to 800 characters (title 100, alt_text 500, link 2048).
        text=TextLimits(max_length=800, counting=TextCounting.CODE_POINTS),
        requires_media=True,
        media=MediaLimits(
            max_items=5,  # multiple_image_urls: a carousel Pin of 2 to 5 images
            mixed_groups_allowed=False,
            max_alt_text=500,
            groups=(
                # Images: BMP, JPEG, PNG, TIFF, WEBP up to 20 MB (2:3 recommended, not required).
                MediaGroup(
                    name="image",
                    max_bytes=20 * MB,
                    max_per_post=5,
                    mime_types=frozenset(
                        {"image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff"}
                    ),
                ),
                # Video Pins: MP4, MOV or M4V, up to 2 GB, 4 seconds to 15 minutes.
                MediaGroup(
                    name="video",
                    max_bytes=2000 * MB,
                    max_per_post=1,
                    max_duration_s=15 * 60,
                    mime_types=frozenset({"video/mp4", "video/quicktime", "video/x-m4v"}),
                ),
            ),
        ),
    ),
    webhook_scheme=None,  # Pinterest sends no webhooks about a connected account's Pins
    options=opt.PINTEREST_OPTIONS,
)

PLATFORMS: Mapping[str, PlatformSpec] = MappingProxyType(
    {
        spec.name: spec
        for spec in (
            _SANDBOX,
            _MASTODON,
            _BLUESKY,
            _X,
            _LINKEDIN,
            _YOUTUBE,
            _TIKTOK,
            _FACEBOOK,
            _INSTAGRAM,
            _THREADS,
            _PINTEREST,
        )
    }
)


def get_platform(name: str) -> PlatformSpec:
    """The platform called `name` (case-insensitive); UnknownPlatform if the catalogue lacks it."""
    try:
        return PLATFORMS[name.strip().lower()]
    except KeyError:
        raise UnknownPlatform(name, platform_names()) from None


def platform_names() -> tuple[str, ...]:
    return tuple(PLATFORMS)
