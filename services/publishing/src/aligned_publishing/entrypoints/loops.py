"""Background loops run by the app factory (called with the service's Deps): the dispatcher,
first comments' retries and re-checks, the feed poller, and the purge of the bin."""

from __future__ import annotations

import asyncio
import logging

from aligned_publishing.service_layer import comments, feed_polling
from aligned_publishing.service_layer.deps import Deps
from aligned_publishing.service_layer.dispatcher import dispatch_batch
from aligned_publishing.service_layer.media import purge_deleted_media, purge_expired_uploads
from aligned_publishing.service_layer.purge import purge_deleted

log = logging.getLogger(__name__)


async def dispatcher(deps: Deps) -> None:
    while True:
        try:
            # A full batch means more are due: go again at once instead of sleeping.
            while await dispatch_batch(deps) >= deps.settings.dispatch_batch_size:
                pass
        except Exception:
            log.exception("dispatch batch failed; retrying next tick")
        await asyncio.sleep(deps.settings.dispatch_interval_s)


async def comment_dispatcher(deps: Deps) -> None:
    while True:
        try:
            while await comments.dispatch_due(deps) >= comments.DUE_BATCH:
                pass
        except Exception:
            log.exception("comment dispatch failed; retrying next tick")
        await asyncio.sleep(deps.settings.dispatch_interval_s)


async def feed_poller(deps: Deps) -> None:
    while True:
        try:
            # A full batch means more are due: go again at once instead of sleeping.
            while await feed_polling.poll_due(deps) >= deps.settings.feed_poll_batch:
                pass
        except Exception:
            log.exception("feed polling failed; retrying next tick")
        await asyncio.sleep(deps.settings.feed_poll_tick_s)


async def purger(deps: Deps) -> None:
    while True:
        try:
            while await purge_deleted(deps) > 0:
                pass
        except Exception:
            log.exception("purge failed; retrying next tick")
        try:
            while await purge_deleted_media(deps) > 0:
                pass
            while await purge_expired_uploads(deps) > 0:
                pass
        except Exception:
            log.exception("media purge failed; retrying next tick")
        await asyncio.sleep(deps.settings.purge_interval_s)
