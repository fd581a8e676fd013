import base64
import os

import pytest

from aligned_webhooks.adapters.secret_box import SecretBox, SecretBoxError

pytestmark = pytest.mark.unit


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_seal_and_open_with_the_key_id_tagged():
    box = SecretBox(f"2030-01:{key()}")
    sealed = box.seal("whsec_abc", "endpoint-1")
    assert sealed.key_id == "2030-01" and b"whsec_abc" not in sealed.blob
    assert box.open(sealed, "endpoint-1") == "whsec_abc"


def test_a_ciphertext_moved_to_another_endpoint_does_not_open():
    box = SecretBox(key())
    with pytest.raises(SecretBoxError):
        box.open(box.seal("whsec_abc", "endpoint-1"), "endpoint-2")


def test_secrets_sealed_before_a_key_rotation_still_open():
    old, new = f"old:{key()}", f"new:{key()}"
    sealed = SecretBox(old).seal("whsec_abc", "e")
    rotated = SecretBox.from_settings(new, old)
    assert rotated.open(sealed, "e") == "whsec_abc"
    assert rotated.seal("x", "e").key_id == "new"
    with pytest.raises(SecretBoxError):
        SecretBox(new).open(sealed, "e")


def test_a_missing_or_short_key_is_refused():
    with pytest.raises(SecretBoxError):
        SecretBox.from_settings(None, None)
    with pytest.raises(SecretBoxError):
        SecretBox(base64.b64encode(b"short").decode())
