"""Engagement that grows with time, the same for the same post on every run.

Each post draws its eventual reach and engagement rates from a generator seeded by its id, then
approaches that reach with a half-life: a metric never goes down between two syncs, and a test
that advances the clock sees it grow.
"""

from __future__ import annotations

import hashlib
import random

from aligned_sandbox.accounts import Account
from aligned_sandbox.clock import to_datetime
from aligned_sandbox.models import AccountMetricsOut, PostMetricsOut
from aligned_sandbox.posts import Post


def _generator(seed_text: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(seed_text.encode()).digest()[:8], "big"))


def post_metrics(post: Post, now: float) -> PostMetricsOut:
    draw = _generator(post.id)
    eventual_reach = draw.randint(500, 20_000)
    half_life_s = draw.uniform(30 * 60, 4 * 60 * 60)
    like_rate, share_rate, comment_rate = (
        draw.uniform(0.02, 0.08),
        draw.uniform(0.002, 0.02),
        draw.uniform(0.001, 0.01),
    )

    # A deleted post stops collecting engagement.
    until = min(now, post.deleted_at) if post.deleted_at is not None else now
    age_s = max(0.0, until - post.created_at)
    impressions = int(eventual_reach * (1 - 0.5 ** (age_s / half_life_s)))
    return PostMetricsOut(
        post_id=post.id,
        observed_at=to_datetime(now),
        impressions=impressions,
        likes=int(impressions * like_rate),
        shares=int(impressions * share_rate),
        comments=int(impressions * comment_rate),
    )


def account_metrics(account: Account, published_posts: int, now: float) -> AccountMetricsOut:
    draw = _generator(account.id)
    initial_followers = draw.randint(100, 5_000)
    followers_per_day = draw.uniform(1, 50)
    age_days = max(0.0, now - account.created_at) / 86_400
    return AccountMetricsOut(
        account_id=account.id,
        observed_at=to_datetime(now),
        followers=initial_followers + int(age_days * followers_per_day) + 3 * published_posts,
        following=draw.randint(50, 800),
        posts=published_posts,
    )
