"""A client's settings (the seed's): language, time zone and e-mail preferences, each with an
effect the client notices in their mailbox.

Read where the recipients read them: the platform's outgoing mail reaches the test run's own
mail server (`system.mailbox`). Time is the client's own: the digest loop sends at 08:00 in
the client's time zone, so a test moves a client's clock by moving them to another zone.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import httpx
import pytest

from aligned_testing.flows import (
    create_job,
    draft_and_submit,
    in_seconds,
    job_in,
    onboard_brand,
    pending_round,
)
from aligned_testing.gateway_client import ApiError, BrandSetup, Gateway, SandboxControl, eventually
from aligned_testing.mailbox import text_of
from aligned_testing.system import System

pytestmark = pytest.mark.e2e

DIGEST_HOUR = 8  # ALIGNED_APPROVAL_DIGEST_HOUR of the test platform (and the default)


def address(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}@client.example.com"


def zone_at_local_hour(hour: int, same_day_as: str | None = None) -> str:
    """A time zone whose local hour is `hour` right now (the fixed-offset Etc zones cover every
    hour), on the same local date as `same_day_as` when given: near UTC midnight two zones an
    hour apart can be on different days (and a digest is once per local day)."""
    now = datetime.now(UTC)
    for offset in range(-12, 15):
        name = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # Etc/GMT-5 is UTC+5
        local = now.astimezone(ZoneInfo(name))
        if local.hour == hour and (
            same_day_as is None or local.date() == now.astimezone(ZoneInfo(same_day_as)).date()
        ):
            return name
    raise AssertionError(f"no zone at {hour}:00")


async def put(api: Gateway, path: str, body: dict) -> dict:
    return await api.request("PUT", path, json_body=body)


async def mails_to(system: System, to: str, count: int = 1, *, subject: str = "") -> list[EmailMessage]:
    async def arrived():
        found = [m for m in system.mailbox.to(to) if subject in m["Subject"]]
        return found if len(found) >= count else None

    return await eventually(arrived, timeout_s=60, what=f"{count} mail(s) '{subject}' to {to}")


async def settled_mails(owner: Gateway, to: str, count: int, **match) -> list[dict]:
    """The address's mails as the service reports them, once `count` of them (matching) left 'pending'."""

    async def settled():
        items = (await owner.get(f"/v1/client-settings/{to}/mails"))["items"]
        mine = [m for m in items if all(m[k] == v for k, v in match.items())]
        return mine if len(mine) >= count and all(m["status"] != "pending" for m in mine) else None

    return await eventually(settled, timeout_s=60, what=f"{count} settled mail(s) to {to}")


async def test_client_settings_are_read_changed_validated_and_stay_in_their_brand(
    brand: BrandSetup,
    api: Gateway,
    sandbox: SandboxControl,
) -> None:
    owner, carol = brand.owner.api, address("carol")
    created = await put(owner, f"/v1/client-settings/{carol}", {"time_zone": "Europe/Berlin"})
    assert created["language"] == "en" and created["time_zone"] == "Europe/Berlin"
    assert created["preferences"] == {  # the seed's defaults
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
    # The seed's camelCase names are understood; untouched fields keep their values.
    changed = await put(
        owner,
        f"/v1/client-settings/{carol}",
        {
            "language": "de",
            "preferences": {"maxEmailsPerDay": 5, "dailyDigest": True, "reminder_frequency": "weekly"},
        },
    )
    assert changed["language"] == "de" and changed["time_zone"] == "Europe/Berlin"
    assert (
        changed["preferences"]["max_emails_per_day"] == 5 and changed["preferences"]["daily_digest"] is True
    )
    assert (
        changed["preferences"]["reminder_frequency"] == "weekly"
        and changed["preferences"]["approvals_needed"] is True
    )

    for body, field in (
        ({"language": "fr"}, "language"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"preferences": {"max_emails_per_day": 0}}, "max_emails_per_day"),
        ({"preferences": {"reminder_frequency": "hourly"}}, "reminder_frequency"),
        ({"preferences": {"digest_frequency": "monthly"}}, "digest_frequency"),
        ({"preferences": {"publishSuccess": "maybe"}}, "publishSuccess"),
    ):
        with pytest.raises(ApiError) as refused:
            await put(owner, f"/v1/client-settings/{carol}", {"time_zone": "UTC", **body})
        assert refused.value.status == 422, refused.value.body
        assert field in str(refused.value.body["errors"]), refused.value.body
    assert await owner.get(f"/v1/client-settings/{carol}") == changed  # nothing half-written

    other = await onboard_brand(api, sandbox.base_url, label="other", connect=False)
    with pytest.raises(ApiError) as hidden:
        await other.owner.api.get(f"/v1/client-settings/{carol}")
    assert hidden.value.status == 404
    with pytest.raises(ApiError) as hidden_mails:
        await other.owner.api.get(f"/v1/client-settings/{carol}/mails")
    assert hidden_mails.value.status == 404
    mine = await owner.get(f"/v1/client-settings/{carol}/mails")
    assert mine == {"items": []}


async def test_a_client_who_reads_german_gets_the_review_mail_in_german(
    brand: BrandSetup, system: System
) -> None:
    owner, greta = brand.owner.api, address("greta")
    await put(owner, f"/v1/client-settings/{greta}", {"language": "de"})
    job = await draft_and_submit(
        owner, brand.connection_id, text="Frühlingsaktion", requires_approval=True, due_in_s=3600
    )
    round_ = await pending_round(owner, job["job_id"])
    await owner.post(f"/v1/approvals/{round_['id']}/links", {"recipient": greta})

    [mail] = await mails_to(system, greta)
    assert mail["Subject"] == f"Bitte prüfen Sie einen Beitrag (Runde {round_['round']})"
    body = text_of(mail)
    assert "Ein Beitrag wartet auf Ihre Freigabe" in body and "Frühlingsaktion" in body
    assert "Hier prüfen (nur einmal gültig):" in body and "/review/" in body
    # The footer too, with the same link the List-Unsubscribe header names (RFC 8058).
    link = re.fullmatch(r"<(\S+)>", mail["List-Unsubscribe"]).group(1)
    assert f"Keine Freigabeanfragen mehr erhalten: {link}" in body
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "approval" not in body.lower().replace("/v1/approvals", "")  # no English left over


async def failing_post(owner: Gateway, sandbox: SandboxControl, connection_id: str, text: str) -> dict:
    """A post the platform refuses once, with no retries left: the job fails."""
    await sandbox.add_fault(mode="error_500", count=1, endpoint="/api/v1/posts", method="POST")
    try:
        job = await create_job(
            owner,
            {
                "content": text,
                "targets": [{"platform": "sandbox", "connection_id": connection_id}],
                "requires_approval": False,
                "scheduled_at": in_seconds(1),
                "max_retries": 0,
            },
        )
        await owner.post(f"/v1/jobs/{job['job_id']}/submit")
        return await job_in(owner, job["job_id"], ("failed", "published"))
    finally:
        await sandbox.clear_faults()


async def test_publish_failure_and_success_mails_follow_the_clients_choice(
    brand: BrandSetup,
    system: System,
    sandbox: SandboxControl,
) -> None:
    owner, client = brand.owner.api, brand.client
    first = await failing_post(owner, sandbox, brand.connection_id, f"Launch day {uuid.uuid4().hex[:6]}")
    assert first["status"] == "failed", first

    # publishFailures is on by default: the client hears of it, with the post and the reason.
    [failed] = await mails_to(system, client.email, subject="could not be published")
    assert failed["Subject"] == "A post could not be published" and "Launch day" in text_of(failed)
    assert "List-Unsubscribe" in failed

    # The client turns failures off and successes on.
    await put(
        owner,
        f"/v1/client-settings/{client.email}",
        {"preferences": {"publishFailures": False, "publishSuccess": True}},
    )
    second = await failing_post(owner, sandbox, brand.connection_id, f"Second try {uuid.uuid4().hex[:6]}")
    assert second["status"] == "failed", second
    [not_sent] = await settled_mails(owner, client.email, 1, job_id=second["job_id"])
    assert not_sent["kind"] == "publish_failed" and not_sent["status"] == "suppressed"

    live = await draft_and_submit(
        owner, brand.connection_id, text=f"Works {uuid.uuid4().hex[:6]}", requires_approval=False, due_in_s=1
    )
    assert (await job_in(owner, live["job_id"], ("published", "failed")))["status"] == "published"
    [published] = await mails_to(system, client.email, subject="A post was published")
    assert "sandbox:" in text_of(published)
    assert len([m for m in system.mailbox.to(client.email) if "could not be published" in m["Subject"]]) == 1


async def test_over_the_daily_limit_mails_fold_into_the_digest_at_the_clients_local_hour(
    brand: BrandSetup,
    system: System,
) -> None:
    owner, dora = brand.owner.api, address("dora")
    # 05:00 where Dora is: her digest hour (08:00) has not come yet today.
    await put(
        owner,
        f"/v1/client-settings/{dora}",
        {"time_zone": zone_at_local_hour(DIGEST_HOUR - 3), "preferences": {"maxEmailsPerDay": 2}},
    )
    job = await draft_and_submit(
        owner, brand.connection_id, text="Four asks", requires_approval=True, due_in_s=3600
    )
    round_ = await pending_round(owner, job["job_id"])
    links = [await owner.post(f"/v1/approvals/{round_['id']}/links", {"recipient": dora}) for _ in range(4)]

    mails = await settled_mails(owner, dora, 4, kind="approval_requested")
    assert sorted(m["status"] for m in mails) == ["held", "held", "sent", "sent"]
    assert len(await mails_to(system, dora, 2)) == 2
    held = [m for m in mails if m["status"] == "held"]

    # Dora moves to where it is 08:00 now: her daily digest goes out, with the held mails in full.
    digest_zone = zone_at_local_hour(DIGEST_HOUR)
    await put(owner, f"/v1/client-settings/{dora}", {"time_zone": digest_zone})
    [digest] = await mails_to(system, dora, subject="Your daily digest")
    body = text_of(digest)
    assert "held back by your limit of 2 e-mails a day (2)" in body
    sent_urls = {
        re.search(r"(https?://\S+/review/\S+)", text_of(m)).group(1)
        for m in system.mailbox.to(dora)
        if m is not digest
    }
    held_urls = {link["url"] for link in links} - sent_urls
    assert len(held_urls) == 2 and all(url in body for url in held_urls)  # nothing lost
    async with httpx.AsyncClient(timeout=30) as browser:  # and the folded links work
        for url in held_urls:
            assert (await browser.get(url, headers={"accept": "application/json"})).status_code == 200
    folded = {m["id"]: m for m in (await owner.get(f"/v1/client-settings/{dora}/mails"))["items"]}
    assert {folded[m["id"]]["status"] for m in held} == {"folded"}

    # One digest for the day, however often the loop looks.
    later_zone = zone_at_local_hour(DIGEST_HOUR + 1, same_day_as=digest_zone)
    await put(owner, f"/v1/client-settings/{dora}", {"time_zone": later_zone})
    await owner.post(f"/v1/approvals/{round_['id']}/links", {"recipient": dora})
    [held_again] = await settled_mails(owner, dora, 1, status="held")
    assert held_again["subject"].startswith("Please review")
    await asyncio.sleep(3)  # the digest loop looks every second
    digests = [
        m for m in (await owner.get(f"/v1/client-settings/{dora}/mails"))["items"] if m["kind"] == "digest"
    ]
    assert len(digests) == 1
