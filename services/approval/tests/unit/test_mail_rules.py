"""Which mail goes out when, what is held back and folded into a digest, in which language (no I/O)."""

from __future__ import annotations

import re
import string
import uuid
from datetime import UTC, date, datetime

import pytest
from babel.messages.pofile import read_po

from aligned_approval.domain.mail_rules import (
    DigestPeriod,
    due_digests,
    local_midnight,
    over_daily_limit,
    period_begins,
    reminders_since,
)
from aligned_approval.domain.preferences import LANGUAGES, EmailPreferences, MailKind
from aligned_approval.messages import LOCALES, catalogue, text
from aligned_approval.service_layer import digest

# Thursday 2026-12-03, 07:30 UTC: 08:30 in Berlin, 02:30 in New York.
NOW = datetime(2026, 12, 3, 7, 30, tzinfo=UTC)


def prefs(**fields) -> EmailPreferences:
    return EmailPreferences.model_validate(fields)


def test_the_seeds_names_and_defaults():
    defaults = EmailPreferences()
    assert defaults.model_dump() == {
        "approvals_needed": True,
        "approval_reminders": True,
        "escalated": True,
        "decided": True,
        "publish_failures": True,
        "publish_success": False,
        "weekly_digest": True,
        "daily_digest": False,
        "reminder_frequency": "daily",
        "digest_frequency": "daily",
        "max_emails_per_day": 20,
    }
    seed_spelling = EmailPreferences.model_validate({"publishSuccess": True, "maxEmailsPerDay": 2})
    assert seed_spelling.publish_success and seed_spelling.max_emails_per_day == 2


@pytest.mark.parametrize(
    ("fields", "kind", "wanted"),
    [
        ({}, MailKind.PUBLISH_FAILED, True),
        ({"publish_failures": False}, MailKind.PUBLISH_FAILED, False),
        ({}, MailKind.PUBLISH_SUCCEEDED, False),
        ({"publish_success": True}, MailKind.PUBLISH_SUCCEEDED, True),
        ({"approval_reminders": False}, MailKind.REMINDER, False),
        ({"approvals_needed": False}, MailKind.APPROVAL_REQUESTED, False),
        ({"approvals_needed": False}, MailKind.DIGEST, True),  # digests have their own rules (due_digests)
    ],
)
def test_which_kinds_a_client_wants(fields, kind, wanted):
    assert prefs(**fields).wants(kind) is wanted


def test_the_local_day_starts_at_the_clients_midnight():
    assert local_midnight(NOW, "Europe/Berlin") == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert local_midnight(NOW, "America/New_York") == datetime(2026, 12, 3, 5, 0, tzinfo=UTC)
    assert local_midnight(NOW, None) == datetime(2026, 12, 3, 0, 0, tzinfo=UTC)


def test_reminders_follow_the_reminder_frequency():
    assert reminders_since(NOW, "Europe/Berlin", prefs(reminder_frequency="every")) is None
    assert reminders_since(NOW, "Europe/Berlin", prefs(reminder_frequency="daily")) == local_midnight(
        NOW, "Europe/Berlin"
    )
    assert reminders_since(NOW, None, prefs(reminder_frequency="weekly")) == datetime(
        2026, 11, 26, 7, 30, tzinfo=UTC
    )


def test_the_daily_limit_holds_back_all_but_digests():
    two = prefs(max_emails_per_day=2)
    assert not over_daily_limit(MailKind.APPROVAL_REQUESTED, 1, two)
    assert over_daily_limit(MailKind.APPROVAL_REQUESTED, 2, two)
    assert over_daily_limit(MailKind.PUBLISH_FAILED, 5, two)
    assert not over_daily_limit(MailKind.DIGEST, 99, two)


def test_a_daily_digest_is_due_from_the_local_hour_on():
    daily = prefs(daily_digest=True, weekly_digest=False)
    assert due_digests(NOW, "Europe/Berlin", daily, has_held=False, hour=8) == [
        DigestPeriod("daily", date(2026, 12, 3))
    ]
    assert due_digests(NOW, "America/New_York", daily, has_held=False, hour=8) == []  # 02:30 there
    assert due_digests(
        NOW, "Pacific/Kiritimati", daily, has_held=False, hour=8
    ) == [  # 21:30 on the 3rd: catches up
        DigestPeriod("daily", date(2026, 12, 3))
    ]


def test_held_mails_make_a_digest_of_the_chosen_cadence_due():
    nothing_chosen = prefs(daily_digest=False, weekly_digest=False)
    assert due_digests(NOW, "Europe/Berlin", nothing_chosen, has_held=False, hour=8) == []
    assert due_digests(NOW, "Europe/Berlin", nothing_chosen, has_held=True, hour=8) == [
        DigestPeriod("daily", date(2026, 12, 3))
    ]
    weekly_fold = prefs(daily_digest=False, weekly_digest=False, digest_frequency="weekly")
    assert due_digests(NOW, "Europe/Berlin", weekly_fold, has_held=True, hour=8) == [
        DigestPeriod("weekly", date(2026, 11, 30))
    ]  # Monday 08:00 has passed this week


def test_a_weekly_digest_waits_for_its_weekday_and_hour():
    weekly = prefs(weekly_digest=True)
    monday_early = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    assert due_digests(monday_early, "Europe/Berlin", weekly, has_held=False, hour=8) == []
    assert due_digests(monday_early.replace(hour=7), "Europe/Berlin", weekly, has_held=False, hour=8) == [
        DigestPeriod("weekly", date(2026, 11, 30))
    ]
    assert (
        due_digests(NOW, "Europe/Berlin", weekly, has_held=False, hour=8, weekday=4) == []
    )  # Friday's not yet
    assert period_begins(DigestPeriod("weekly", date(2026, 11, 30)), "Europe/Berlin") == datetime(
        2026, 11, 29, 23, 0, tzinfo=UTC
    )


def test_a_digest_lists_the_held_mails_in_full_and_the_waiting_rounds_in_the_clients_language():
    client = {"language": "de", "preferences": {"max_emails_per_day": 2}}
    held = [
        {"subject": "Bitte prüfen Sie einen Beitrag (Runde 1)", "body": "Hier prüfen: https://x/review/abc\n"}
    ]
    waiting = [{"id": uuid.UUID(int=7), "content": "Frühlingsaktion\nmehr Text"}]
    subject, body = digest.render(
        client, DigestPeriod("daily", date(2026, 12, 3)), held, waiting, "https://gw"
    )
    assert subject == "Ihre tägliche Zusammenfassung (2026-12-03)"
    assert "https://x/review/abc" in body and "Bitte prüfen Sie einen Beitrag (Runde 1)" in body
    assert f"- Frühlingsaktion: https://gw/v1/approvals/{uuid.UUID(int=7)}" in body
    assert "Limits von 2 E-Mails pro Tag" in body


def _fields(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


def test_every_language_has_every_message_with_the_same_fields():
    english = catalogue("en")
    for language in LANGUAGES:
        with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
            read_po(po)  # a valid catalogue
        other = catalogue(language)
        assert other.keys() == english.keys(), language
        for key, message in english.items():
            assert _fields(other[key]) == _fields(message), (language, key)


def test_mails_are_written_from_the_catalogues():
    assert text("de", "mail.approval_requested.subject", round=2) == "Freigabe angefragt (Runde 2)"
    assert text("en", "mail.approval_requested.subject", round=2) == "Approval requested (round 2)"
    assert text("fr", "kind.reminder") == "approval reminders"  # an unknown language reads English


def test_no_mail_sentence_is_a_literal_in_the_code():
    # The service layer builds mails from keys only: no English sentence in a string literal.
    from pathlib import Path

    source = "".join(p.read_text() for p in (Path(digest.__file__).parent).glob("*.py"))
    for sentence in ("waiting for your approval", "could not be published", "You get this because"):
        assert not re.search(re.escape(sentence), source, re.IGNORECASE), sentence


def test_a_new_client_gets_a_chosen_digest_from_the_next_send_time_on_but_held_mail_at_once():
    weekly = prefs(weekly_digest=True, daily_digest=True)
    thursday = datetime(2026, 12, 3, 7, 15, tzinfo=UTC)  # 08:15 in Berlin, after the day's send time
    assert due_digests(NOW, "Europe/Berlin", weekly, has_held=False, hour=8, client_since=thursday) == []
    assert due_digests(NOW, "Europe/Berlin", weekly, has_held=True, hour=8, client_since=thursday) == [
        DigestPeriod("daily", date(2026, 12, 3))
    ]  # digest_frequency daily: the held mails go out today
    monday = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert due_digests(NOW, "Europe/Berlin", weekly, has_held=False, hour=8, client_since=monday) == [
        DigestPeriod("daily", date(2026, 12, 3)),
        DigestPeriod("weekly", date(2026, 11, 30)),
    ]
