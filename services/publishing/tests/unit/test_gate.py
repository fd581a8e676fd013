"""The approval gate's rules and the reference check (pure)."""

import uuid

import pytest

from aligned_publishing.domain.content_fit import TargetDraft
from aligned_publishing.domain.gate import Outgoing, PolicyView, approved_for_current, content_hash, evaluate
from aligned_publishing.domain.references import check_targets

pytestmark = pytest.mark.unit

A, B = uuid.uuid4(), uuid.uuid4()


def _policy(mode="approval_required", connection_id=None, user_id=None, waiver_roles=("owner", "admin")):
    return PolicyView(uuid.uuid4(), mode, connection_id, user_id, tuple(waiver_roles))


def test_no_policy_leaves_it_to_the_author():
    assert evaluate([], [A], "ed", author_asked=False).required is False
    asked = evaluate([], [A], "ed", author_asked=True)
    assert asked.required and "the author asked" in asked.reason and asked.waiver_roles == {"owner", "admin"}


def test_a_brand_policy_binds_and_names_itself():
    brand = _policy()
    gate = evaluate([brand], [A], "ed", author_asked=False)
    assert gate.required and str(brand.policy_id) in gate.reason and "brand-wide" in gate.reason


def test_the_most_specific_policy_wins_per_target():
    brand = _policy()
    open_a = _policy("full_posting", connection_id=A)
    assert evaluate([brand, open_a], [A], "ed", False).required is False
    gate = evaluate([brand, open_a], [A, B], "ed", False)  # B falls back to the brand's policy
    assert gate.required and str(brand.policy_id) in gate.reason
    author = _policy(user_id="ed")
    assert evaluate([author], [A], "ed", False).required
    assert evaluate([author], [A], "someone-else", False).required is False
    both = _policy("full_posting", connection_id=A, user_id="ed")
    assert evaluate([brand, open_a, author, both], [A], "ed", False).required is False


def test_waiver_roles_are_what_every_requiring_policy_allows():
    only_owner = _policy(connection_id=A, waiver_roles=("owner",))
    owner_admin = _policy(connection_id=B)
    assert evaluate([only_owner, owner_admin], [A, B], "ed", False).waiver_roles == {"owner"}


def test_the_hash_changes_with_any_text_media_or_account_and_an_approval_covers_one_hash():
    m = uuid.uuid4()
    base = content_hash([Outgoing(A, "sandbox", "hi", (m,))])
    assert base == content_hash([Outgoing(A, "sandbox", "hi", (m,))])
    for other in (
        Outgoing(A, "sandbox", "hi!", (m,)),
        Outgoing(A, "sandbox", "hi", ()),
        Outgoing(B, "sandbox", "hi", (m,)),
    ):
        assert content_hash([other]) != base
    assert approved_for_current(base, base) and not approved_for_current(None, base)
    assert not approved_for_current(base, content_hash([]))


def test_references_unknown_disconnected_and_platform_mismatch_name_the_field():
    known = {
        A: {"status": "active", "platform": "sandbox"},
        B: {"status": "disconnected", "platform": "sandbox"},
    }
    drafts = [
        TargetDraft("sandbox", A, None, None),
        TargetDraft("sandbox", B, None, None),
        TargetDraft("sandbox", uuid.uuid4(), None, None),
        TargetDraft("bluesky", A, None, None),
    ]
    errors = [(e.field, e.code) for e in check_targets(drafts, known)]
    assert errors == [
        ("targets[1].connection_id", "connection_disconnected"),
        ("targets[2].connection_id", "unknown_connection"),
        ("targets[3].platform", "platform_mismatch"),
    ]
    expired = {A: {"status": "expired", "platform": "sandbox"}}
    assert check_targets([TargetDraft("sandbox", A, None, None)], expired) == []  # held, not refused
