"""The key ring for secrets at rest: both storage shapes, both configuration shapes, rotation,
and ciphertexts written before the ring existed (connections' and webhooks' own formats)."""

import base64
import hashlib
import json
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from aligned_common.keyring import DecryptionError, KeyConfigError, KeyRing, Sealed, key_id_of, new_key

pytestmark = pytest.mark.unit


def raw_key() -> bytes:
    return os.urandom(32)


def test_text_and_column_shapes_round_trip_and_are_bound_to_their_context():
    ring = KeyRing({"k1": raw_key()}, "k1")
    token = ring.encrypt("secret", "row-1:access")
    assert token.startswith("v1:k1:") and "secret" not in token
    assert ring.decrypt(token, "row-1:access") == "secret"
    sealed = ring.seal("secret", "endpoint-1")
    assert sealed.key_id == "k1" and ring.open(sealed, "endpoint-1") == "secret"
    for bad in (
        lambda: ring.decrypt(token, "row-2:access"),
        lambda: ring.open(sealed, "endpoint-2"),
        lambda: ring.decrypt(token[:-4] + "AAAA", "row-1:access"),
        lambda: ring.decrypt("v1:k1", "c"),
        lambda: ring.decrypt("v2:k1:AAAA", "c"),
    ):
        with pytest.raises(DecryptionError):
            bad()


def test_a_key_is_retired_after_reencryption_and_not_before():
    k1, k2 = raw_key(), raw_key()
    old_token = KeyRing({"k1": k1}, "k1").encrypt("t", "c")
    old_sealed = KeyRing({"k1": k1}, "k1").seal("t", "c")
    both = KeyRing({"k1": k1, "k2": k2}, "k2")
    assert both.needs_rotation(old_token) and both.needs_rotation(old_sealed)
    new_token, new_sealed = both.reencrypt(old_token, "c"), both.reseal(old_sealed, "c")
    assert key_id_of(new_token) == "k2" and new_sealed.key_id == "k2"
    assert both.reencrypt(new_token, "c") == new_token  # already current: left as it is
    retired = KeyRing({"k2": k2}, "k2")
    assert retired.decrypt(new_token, "c") == "t" and retired.open(new_sealed, "c") == "t"
    with pytest.raises(DecryptionError):
        retired.decrypt(old_token, "c")


def test_ciphertexts_of_the_formats_before_the_ring_still_open():
    key, nonce = raw_key(), os.urandom(12)
    # connections' TokenCipher: v1:<id>:<base64url(nonce || ct)>, associated data = context
    legacy_token = (
        "v1:k1:" + base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, b"tok", b"ctx")).decode()
    )
    assert KeyRing({"k1": key}, "k1").decrypt(legacy_token, "ctx") == "tok"
    # webhooks' SecretBox: key-id column + bytea; a bare base64 key's id is its fingerprint
    blob = nonce + AESGCM(key).encrypt(nonce, b"whsec", b"endpoint")
    fingerprint = "k-" + hashlib.sha256(key).hexdigest()[:8]
    ring = KeyRing.from_current_and_old(
        base64.b64encode(raw_key()).decode(), [base64.b64encode(key).decode()]
    )
    assert ring.open(Sealed(fingerprint, blob), "endpoint") == "whsec"


def test_both_configuration_shapes():
    k1 = base64.b64encode(raw_key()).decode()
    assert KeyRing.from_json(json.dumps({"k1": k1}), "k1").active_key_id == "k1"
    assert KeyRing.from_current_and_old(f"2030-01:{k1}", []).active_key_id == "2030-01"
    assert new_key("k9").startswith("k9:") and len(base64.b64decode(new_key())) == 32
    for bad in (
        lambda: KeyRing.from_json(None, "k1"),
        lambda: KeyRing.from_json(json.dumps({"k1": k1}), "k9"),
        lambda: KeyRing.from_json("[1]", "k1"),
        lambda: KeyRing.from_json(json.dumps({"k1": "c2hvcnQ="}), "k1"),
        lambda: KeyRing.from_current_and_old(None),
        lambda: KeyRing.from_current_and_old("not base64!"),
        lambda: KeyRing({"a:b": raw_key()}, "a:b"),
    ):
        with pytest.raises(KeyConfigError):
            bad()
