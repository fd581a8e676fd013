"""Publish outcomes, learned from publishing's events (job_published, job_partially_published,
job_failed): a mail to the brand's clients and approvers and to the post's author, each
sent only when their preferences ask for it (the sender decides; the mail is queued anyway,
so what was not wanted shows as suppressed)."""

from __future__ import annotations

from aligned_approval.domain.preferences import MailKind
from aligned_approval.messages import text
from aligned_approval.service_layer import notify
from aligned_approval.service_layer.ports import UnitOfWork
from aligned_common.envelope import EventEnvelope
from aligned_common.events.publishing import JobFailed, JobPartiallyPublished, JobPublished, TargetResult

RECIPIENT_ROLES = ["client", "approver"]


def _targets(lang: str, targets: list[TargetResult], *, failed: bool) -> str:
    lines = [
        text(
            lang,
            "mail.target_line",
            platform=t.platform,
            detail=(t.error or t.status) if failed else (t.url or t.status),
        )
        for t in targets
        if (t.status != "published") == failed
    ]
    return "\n".join(lines)


async def on_outcome(
    uow: UnitOfWork, envelope: EventEnvelope, data: JobPublished | JobPartiallyPublished | JobFailed
) -> None:
    failed = not isinstance(data, JobPublished)
    job = await uow.jobs.get(envelope.brand_id, data.job_id) or {}
    authors = [job["author_id"]] if job.get("author_id") else []
    addresses = await uow.members.reviewer_emails(envelope.brand_id, roles=RECIPIENT_ROLES, users=authors)
    content = (job.get("content") or "").strip()
    # A partly published post has no reason of its own: its failed targets' errors are the reason.
    reason = (
        data.reason if isinstance(data, JobFailed) else "; ".join(t.error for t in data.targets if t.error)
    )

    def render(lang: str) -> tuple[str, str]:
        if failed:
            body = text(
                lang,
                "mail.publish_failed.body",
                reason=reason,
                targets=_targets(lang, data.targets, failed=True),
            )
            subject = text(lang, "mail.publish_failed.subject")
        else:
            body = text(
                lang, "mail.publish_succeeded.body", targets=_targets(lang, data.targets, failed=False)
            )
            subject = text(lang, "mail.publish_succeeded.subject")
        return subject, f"{body}\n{content}\n" if content else body

    kind = MailKind.PUBLISH_FAILED if failed else MailKind.PUBLISH_SUCCEEDED
    # Keyed by the job and the outcome: a redelivered event queues nothing twice.
    await notify.enqueue_each(
        uow,
        envelope.brand_id,
        kind,
        addresses,
        render,
        f"{data.job_id}:{kind.value}",
        job_id=data.job_id,
    )
