import uuid

import pytest

from aligned_common.identity import Identity, signed_headers, verify_headers
from aligned_common.problems import Problem

pytestmark = pytest.mark.unit

SECRET = b"test-secret"
WHO = Identity(uuid.uuid4(), uuid.uuid4(), "user-1", "editor")


def test_a_signed_identity_verifies():
    assert verify_headers(signed_headers(WHO, SECRET, now=1000), SECRET, now=1010) == WHO


@pytest.mark.parametrize("tamper", ["X-Aligned-Brand-Id", "X-Aligned-Role", "X-Aligned-User-Id"])
def test_changing_any_signed_value_is_refused(tamper):
    headers = signed_headers(WHO, SECRET, now=1000)
    headers[tamper] = str(uuid.uuid4()) if tamper.endswith("Id") else "owner"
    with pytest.raises(Problem) as refused:
        verify_headers(headers, SECRET, now=1000)
    assert refused.value.status == 401


def test_wrong_secret_missing_headers_and_stale_timestamps_are_refused():
    with pytest.raises(Problem, match="Unauthenticated"):
        verify_headers(signed_headers(WHO, b"other", now=1000), SECRET, now=1000)
    with pytest.raises(Problem):
        verify_headers({}, SECRET)
    with pytest.raises(Problem) as stale:
        verify_headers(signed_headers(WHO, SECRET, now=1000), SECRET, now=1000 + 301)
    assert stale.value.detail == "stale internal identity"


def test_every_one_character_change_of_the_signature_is_refused():
    headers = signed_headers(WHO, SECRET, now=1000)
    signature = headers["X-Aligned-Signature"]
    for i in range(len(signature)):
        for c in "0123456789abcdefABCDEF é":
            if c == signature[i]:
                continue
            tampered = dict(headers, **{"X-Aligned-Signature": signature[:i] + c + signature[i + 1:]})
            with pytest.raises(Problem) as refused:
                verify_headers(tampered, SECRET, now=1000)
            assert refused.value.status == 401


def test_a_non_ascii_signature_is_a_401_not_a_crash():
    headers = signed_headers(WHO, SECRET, now=1000)
    headers["X-Aligned-Signature"] = "é" * 64
    with pytest.raises(Problem) as refused:
        verify_headers(headers, SECRET, now=1000)
    assert refused.value.status == 401
