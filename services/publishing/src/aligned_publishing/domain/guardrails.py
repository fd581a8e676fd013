"""The brand kit's rules on a job's texts (no I/O): what each target posts, and its first comment.

A target with its own text is checked as `targets[i].text`; one that posts the job's text is
checked as `content` (that is the field to fix), once per rule and span even when several
targets share it. A platform's own rules (per-platform limits, disclosures) apply per target.
"""

from __future__ import annotations

from collections.abc import Sequence

from aligned_common.events.publishing import ContentWarning
from aligned_common.guardrails import Finding, GuardrailRules, check, check_comment
from aligned_publishing.domain.content_fit import TargetDraft


def target_findings(
    rules: GuardrailRules, index: int, target: TargetDraft, content: str, tags: Sequence[str]
) -> list[Finding]:
    own = target.text is not None
    text = target.text if target.text is not None else content
    found = check(
        rules, text, field=f"targets[{index}].text" if own else "content", platform=target.platform, tags=tags
    )
    if target.first_comment:
        found += check_comment(rules, target.first_comment, field=f"targets[{index}].first_comment")
    return found


def job_findings(
    rules: GuardrailRules | None, content: str, targets: Sequence[TargetDraft], tags: Sequence[str]
) -> list[Finding]:
    if rules is None:
        return []
    seen: set[tuple[str, str, int, int]] = set()
    findings = []
    for index, target in enumerate(targets):
        for finding in target_findings(rules, index, target, content, tags):
            key = (finding.field, finding.rule, finding.start, finding.end)
            if key not in seen:
                seen.add(key)
                findings.append(finding)
    return findings


def as_content_warning(finding: Finding) -> ContentWarning:
    """A warn finding as approvers see it in the round (publishing.job_created's targets)."""
    return ContentWarning(
        code="guardrail",
        field=finding.field,
        message=finding.message,
        rule=finding.rule,
        start=finding.start,
        end=finding.end,
    )
