"""Token encryption and the signed OAuth state: pure logic."""

import base64
import json
import os
import string
import time
import uuid

import pytest

from aligned_connections.adapters.crypto import DecryptionError, KeyConfigError, TokenCipher, key_id_of
from aligned_connections.adapters.oauth_state import BadState, StateClaims, sign_state, verify_state
from aligned_connections.adapters.pkce import challenge_of, new_verifier

pytestmark = pytest.mark.unit


def keys(*ids: str) -> dict[str, bytes]:
    return {key_id: os.urandom(32) for key_id in ids}


def test_a_token_round_trips_and_its_ciphertext_names_the_key_but_not_the_token():
    cipher = TokenCipher(keys("k1"), "k1")
    sealed = cipher.encrypt("secret-access-token", "row-1:access")
    assert sealed.startswith("v1:k1:") and "secret-access-token" not in sealed
    assert cipher.decrypt(sealed, "row-1:access") == "secret-access-token"
    assert cipher.encrypt("secret-access-token", "row-1:access") != sealed  # fresh nonce every time


def test_a_ciphertext_does_not_open_in_another_row_or_column():
    cipher = TokenCipher(keys("k1"), "k1")
    sealed = cipher.encrypt("t", "row-1:access")
    with pytest.raises(DecryptionError):
        cipher.decrypt(sealed, "row-2:access")
    with pytest.raises(DecryptionError):
        cipher.decrypt(sealed, "row-1:refresh")


def test_rotation_old_ciphertexts_open_while_the_old_key_is_in_the_ring():
    ring = keys("k1", "k2")
    old = TokenCipher(ring, "k1").encrypt("t", "c")
    new_cipher = TokenCipher(ring, "k2")
    assert new_cipher.needs_rotation(old)
    assert new_cipher.decrypt(old, "c") == "t"
    assert key_id_of(new_cipher.encrypt("t", "c")) == "k2"
    with pytest.raises(DecryptionError):
        TokenCipher({"k2": ring["k2"]}, "k2").decrypt(old, "c")


def test_key_ring_from_the_environment_format():
    encoded = json.dumps({"k1": base64.b64encode(os.urandom(32)).decode()})
    assert TokenCipher.from_config(encoded, "k1").active_key_id == "k1"
    with pytest.raises(KeyConfigError):
        TokenCipher.from_config(None, "k1")
    with pytest.raises(KeyConfigError):
        TokenCipher.from_config(encoded, "k9")
    with pytest.raises(KeyConfigError):
        TokenCipher.from_config(json.dumps({"k1": base64.b64encode(b"short").decode()}), "k1")


def claims(**changes) -> StateClaims:
    values = {
        "nonce": "n1",
        "brand_id": uuid.uuid4(),
        "user_id": "u1",
        "platform": "sandbox",
        "expires_at": time.time() + 60,
    }
    values.update(changes)
    return StateClaims(**values)


def test_a_signed_state_verifies_and_carries_its_claims():
    issued = claims()
    assert verify_state(sign_state(issued, b"secret-secret-secret"), b"secret-secret-secret") == issued


# Every character a URL-safe token may hold, the separator, padding and two strays.
TAMPER_ALPHABET = string.ascii_letters + string.digits + "-_.=+/ \n"


def one_character_tampers(state: str):
    """Every state that differs from `state` by one character: replaced, removed or added."""
    for i, original in enumerate(state):
        yield state[:i] + state[i + 1 :]
        for c in TAMPER_ALPHABET:
            yield state[:i] + c + state[i:]
            if c != original:
                yield state[:i] + c + state[i + 1 :]
    for c in TAMPER_ALPHABET:
        yield state + c


@pytest.mark.parametrize("seed", range(8))
def test_a_tampered_state_is_refused(seed):
    # Deterministic: every one-character change of several states (a lenient base64 decode
    # once let about 6 % of random signature changes through).
    secret = b"secret-secret-secret"
    issued = claims(nonce=f"n{seed}", brand_id=uuid.UUID(int=seed + 1), expires_at=2_000_000_000.0 + seed)
    state = sign_state(issued, secret)
    assert verify_state(state, secret, now=1_900_000_000.0) == issued
    accepted = []
    for tampered in one_character_tampers(state):
        try:
            verify_state(tampered, secret, now=1_900_000_000.0)
            accepted.append(tampered)
        except BadState:
            pass
    assert accepted == []


@pytest.mark.parametrize(
    "mangle", [lambda s: s.split(".")[0], lambda s: "", lambda s: s + "." + s.split(".")[1]]
)
def test_a_malformed_state_is_refused(mangle):
    with pytest.raises(BadState):
        verify_state(mangle(sign_state(claims(), b"secret-secret-secret")), b"secret-secret-secret")


def test_a_state_signed_with_another_secret_or_expired_is_refused():
    with pytest.raises(BadState):
        verify_state(sign_state(claims(), b"other-secret-other"), b"secret-secret-secret")
    with pytest.raises(BadState):
        verify_state(
            sign_state(claims(expires_at=time.time() - 1), b"secret-secret-secret"), b"secret-secret-secret"
        )


def test_pkce_verifiers_are_what_an_authorization_server_accepts():
    # Checked by the sandbox's own, independent implementation of the server side.
    from aligned_sandbox.pkce import verifier_matches

    verifiers = {new_verifier() for _ in range(20)}
    assert len(verifiers) == 20
    assert all(verifier_matches(v, challenge_of(v)) for v in verifiers)
