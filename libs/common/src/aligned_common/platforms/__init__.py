"""The platform catalogue: what several services need to know about each social platform.

Content limits (checked before publishing), webhook signature schemes (verified by the webhook
service, used to sign outbound deliveries) and the registry of platforms. Nothing here holds a
token or calls a platform: that is the connections service's job alone.
"""

from aligned_common.platforms import meta_webhooks, standard_webhooks
from aligned_common.platforms.catalogue import (
    PLATFORMS,
    Capabilities,
    ConnectFlow,
    PlatformSpec,
    WebhookScheme,
    get_platform,
    platform_names,
)
from aligned_common.platforms.content_check import ContentViolation, ViolationCode, check_content
from aligned_common.platforms.errors import (
    InvalidSignature,
    InvalidWebhookSecret,
    MalformedWebhook,
    StaleTimestamp,
    UnknownPlatform,
    WebhookVerificationError,
)
from aligned_common.platforms.limits import ContentLimits, MediaGroup, MediaLimits, TextCounting, TextLimits
from aligned_common.platforms.media import MediaInfo
from aligned_common.platforms.options import (
    OptionCode,
    OptionKind,
    OptionValue,
    OptionViolation,
    PlatformOption,
    as_strings,
    check_options,
)
from aligned_common.platforms.standard_webhooks import VerifiedWebhook, WebhookSecret
from aligned_common.platforms.text_length import measure_text

__all__ = [
    "PLATFORMS",
    "Capabilities",
    "ConnectFlow",
    "ContentLimits",
    "ContentViolation",
    "InvalidSignature",
    "InvalidWebhookSecret",
    "MalformedWebhook",
    "MediaGroup",
    "MediaInfo",
    "MediaLimits",
    "OptionCode",
    "OptionKind",
    "OptionValue",
    "OptionViolation",
    "PlatformOption",
    "PlatformSpec",
    "StaleTimestamp",
    "TextCounting",
    "TextLimits",
    "UnknownPlatform",
    "VerifiedWebhook",
    "ViolationCode",
    "WebhookScheme",
    "WebhookSecret",
    "WebhookVerificationError",
    "as_strings",
    "check_content",
    "check_options",
    "get_platform",
    "measure_text",
    "meta_webhooks",
    "platform_names",
    "standard_webhooks",
]
