"""The brand kit's rules on a text (aligned_common.guardrails): what is found, where, how hard."""

import pytest

from aligned_common.guardrails import (
    BannedTerm,
    CountLimit,
    Disclosure,
    GuardrailRules,
    PlatformRules,
    blocking,
    check,
    check_comment,
    warnings,
)

pytestmark = pytest.mark.unit


def _rules(**values: object) -> GuardrailRules:
    return GuardrailRules.model_validate(values)


def test_a_banned_term_is_found_whatever_its_case_and_accents_with_its_span_in_the_original():
    rules = _rules(banned_terms=[BannedTerm(term="creme brulee")])
    text = "Try our CRÈME Brûlée today"
    (finding,) = check(rules, text, field="targets[0].text")
    assert finding.rule == "banned_term:creme brulee" and finding.level == "block"
    assert text[finding.start : finding.end] == "CRÈME Brûlée"
    assert finding.field == "targets[0].text"


def test_an_accented_banned_term_matches_plain_text_too():
    rules = _rules(banned_terms=[BannedTerm(term="Café")])
    (finding,) = check(rules, "best cafe in town", field="content")
    assert (finding.start, finding.end) == (5, 9)


def test_banned_terms_are_whole_words_only():
    rules = _rules(banned_terms=[BannedTerm(term="ad")])
    text = "We adore the adverts. Bad ad!"
    (finding,) = check(rules, text, field="content")
    assert (finding.start, finding.end) == (26, 28)
    assert check(rules, "nothing here: adad, badly", field="content") == []


def test_a_span_stays_right_after_characters_that_fold_into_two():
    rules = _rules(banned_terms=[BannedTerm(term="cheap")])
    text = "Straße ﬁne CHEAP"  # ß folds to "ss", the ligature to "fi": offsets must not drift
    (finding,) = check(rules, text, field="content")
    assert text[finding.start : finding.end] == "CHEAP"


def test_a_required_disclosure_applies_only_to_jobs_with_its_tag():
    rules = _rules(required_disclosures=[Disclosure(text="#ad", when_tag="sponsored")])
    text = "Our partner's new shoes"
    assert check(rules, text, field="content", tags=["launch"]) == []
    (missing,) = check(rules, text, field="content", tags=["Sponsored"])
    assert missing.rule == "required_disclosure:#ad" and missing.level == "block"
    assert missing.start == missing.end == len(text)
    assert check(rules, text + " #AD", field="content", tags=["sponsored"]) == []
    # "#adventure" is not the disclosure
    assert len(check(rules, text + " #adventure", field="content", tags=["sponsored"])) == 1


def test_a_disclosure_for_some_platforms_leaves_the_others_alone():
    rules = _rules(required_disclosures=[Disclosure(text="#ad", platforms=["instagram"], level="warn")])
    assert check(rules, "hello", field="content", platform="mastodon") == []
    (finding,) = check(rules, "hello", field="content", platform="Instagram")
    assert finding.level == "warn"


def test_links_only_to_allowed_domains_and_their_subdomains():
    rules = _rules(allowed_link_domains=["example.com"])
    text = "See https://shop.example.com/x, https://example.com and https://evil.test/path."
    (finding,) = check(rules, text, field="content")
    assert finding.rule == "link_domain"
    assert text[finding.start : finding.end] == "https://evil.test/path"
    assert check(rules, "https://notexample.com", field="content")[0].rule == "link_domain"
    assert check(_rules(), "https://evil.test", field="content") == []  # no list: any domain


def test_hashtags_past_the_limit_are_the_span_and_a_platform_may_have_its_own_limit():
    rules = _rules(
        hashtag_limit=CountLimit(max=2, level="warn"),
        platforms={"instagram": PlatformRules(hashtag_limit=CountLimit(max=5, level="block"))},
    )
    text = "#one #two #three #four"
    (finding,) = check(rules, text, field="content", platform="mastodon")
    assert finding.rule == "hashtag_limit" and finding.level == "warn"
    assert text[finding.start : finding.end] == "#three #four"
    assert check(rules, text, field="content", platform="instagram") == []


def test_mentions_are_counted_including_fediverse_handles():
    rules = _rules(mention_limit=CountLimit(max=1))
    text = "hi @ann and @bob@example.social, mail me@example.com"
    (finding,) = check(rules, text, field="content")
    assert text[finding.start : finding.end] == "@bob@example.social"


def test_block_and_warn_are_told_apart_and_a_comment_is_checked_for_words_and_links():
    rules = _rules(
        banned_terms=[BannedTerm(term="cheap"), BannedTerm(term="guaranteed", level="warn")],
        required_disclosures=[Disclosure(text="#ad")],
    )
    findings = check(rules, "cheap and guaranteed", field="content")
    assert [f.rule for f in blocking(findings)] == ["banned_term:cheap", "required_disclosure:#ad"]
    assert [f.rule for f in warnings(findings)] == ["banned_term:guaranteed"]
    assert [f.rule for f in check_comment(rules, "so cheap", field="first_comment")] == ["banned_term:cheap"]


def test_an_empty_kit_finds_nothing():
    assert check(GuardrailRules(), "anything #at @all https://x.test", field="content") == []
