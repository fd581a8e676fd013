"""RSS/Atom auto-posting rules: template rendering, the entry dedupe key, the poll backoff."""

from datetime import UTC, datetime, timedelta

import pytest

from aligned_publishing.domain.feeds import (
    FeedEntry,
    TemplateError,
    entry_key,
    next_poll_at,
    render,
    template_problem,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_a_template_fills_title_link_and_summary_from_the_entry():
    entry = FeedEntry(
        guid="g1", link="https://blog.example/post", title="Launch", summary="<p>We <b>shipped</b>\n it</p>"
    )
    assert render("{title}: {summary} {link}", entry) == "Launch: We shipped it https://blog.example/post"


def test_braces_in_an_entry_stay_literal_and_cannot_pull_in_another_field():
    entry = FeedEntry(guid="g1", link="https://blog.example/post", title="Use {link} here")
    assert render("{title}", entry) == "Use {link} here"


@pytest.mark.parametrize(
    ("template", "reason"),
    [("", "empty"), ("   ", "empty"), ("{title} {author}", "unknown placeholder {author}")],
)
def test_a_template_the_entry_cannot_fill_is_refused_with_its_reason(template, reason):
    problem = template_problem(template)
    assert problem is not None and reason in problem
    with pytest.raises(TemplateError, match=reason):
        render(template, FeedEntry(guid="g", link=None))


def test_a_good_template_has_no_problem():
    assert template_problem("New: {title} {link}") is None


def test_the_guid_decides_sameness_even_when_the_link_changes():
    first = FeedEntry(guid="tag:blog,2026:1", link="https://blog.example/a")
    moved = FeedEntry(guid="tag:blog,2026:1", link="https://blog.example/a?utm=x")
    assert entry_key(first) == entry_key(moved)
    assert entry_key(first) != entry_key(FeedEntry(guid="tag:blog,2026:2", link="https://blog.example/a"))


def test_without_a_guid_the_link_decides_and_a_guid_never_collides_with_a_link():
    assert entry_key(FeedEntry(guid=None, link="https://b/x")) == entry_key(
        FeedEntry(guid=" ", link="https://b/x")
    )
    assert entry_key(FeedEntry(guid="https://b/x", link=None)) != entry_key(
        FeedEntry(guid=None, link="https://b/x")
    )


def test_an_entry_with_neither_guid_nor_link_has_no_key():
    assert entry_key(FeedEntry(guid=None, link=None, title="orphan")) is None


def test_a_working_feed_is_polled_again_after_the_interval():
    assert next_poll_at(
        NOW, interval_s=300, consecutive_failures=0, backoff_base_s=60, backoff_cap_s=3600
    ) == NOW + timedelta(seconds=300)


def test_a_broken_feed_backs_off_longer_each_failure_up_to_the_cap():
    waits = [
        next_poll_at(NOW, interval_s=30, consecutive_failures=n, backoff_base_s=60, backoff_cap_s=600) - NOW
        for n in range(1, 7)
    ]
    assert [w.total_seconds() for w in waits] == [60, 120, 240, 480, 600, 600]


def test_backoff_never_polls_sooner_than_the_normal_interval():
    due = next_poll_at(NOW, interval_s=900, consecutive_failures=1, backoff_base_s=60, backoff_cap_s=3600)
    assert due == NOW + timedelta(seconds=900)
