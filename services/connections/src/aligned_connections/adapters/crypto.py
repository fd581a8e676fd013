"""Tokens at rest: AES-256-GCM with a key ring, each ciphertext tagged with its key's id.

Format: `v1:<key id>:<base64url(nonce || ciphertext+tag)>`. New values use the active key;
any key still in the ring decrypts, so keys rotate without downtime: add the new key, make it
active, run `rotate-keys`, then drop the old one. The associated data binds a ciphertext to
its row and column, so a value copied into another row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "v1"
NONCE_BYTES = 12


class KeyConfigError(ValueError):
    """The key ring in the environment is missing or malformed."""


class DecryptionError(ValueError):
    """A ciphertext that no key in the ring opens (unknown key id, tampering, wrong row)."""


class TokenCipher:
    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise KeyConfigError(f"active key {active_key_id!r} is not in the key ring")
        for key_id, key in keys.items():
            if len(key) != 32:
                raise KeyConfigError(f"key {key_id!r} must be 32 bytes (AES-256), not {len(key)}")
            if ":" in key_id:
                raise KeyConfigError(f"key id {key_id!r} may not contain ':'")
        self._aeads = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active_key_id = active_key_id

    @classmethod
    def from_config(cls, keys_json: str | None, active_key_id: str | None) -> TokenCipher:
        """From ALIGNED_CONNECTIONS_ENCRYPTION_KEYS ({"k1": "<base64>"}) and ..._ACTIVE_KEY_ID."""
        if not keys_json or not active_key_id:
            raise KeyConfigError(
                "ALIGNED_CONNECTIONS_ENCRYPTION_KEYS and ALIGNED_CONNECTIONS_ACTIVE_KEY_ID must be set"
            )
        try:
            encoded = json.loads(keys_json)
            keys = {str(key_id): base64.b64decode(value, validate=True) for key_id, value in encoded.items()}
        except (ValueError, AttributeError, binascii.Error) as error:
            raise KeyConfigError("ALIGNED_CONNECTIONS_ENCRYPTION_KEYS must be a JSON object of base64 keys") from error
        return cls(keys, active_key_id)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[self.active_key_id].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{FORMAT}:{self.active_key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, context: str) -> str:
        version, key_id, body = _split(token)
        aead = self._aeads.get(key_id)
        if version != FORMAT or aead is None:
            raise DecryptionError(f"no key {key_id!r} in the ring for this ciphertext")
        raw = base64.urlsafe_b64decode(body)
        try:
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except InvalidTag as error:
            raise DecryptionError("ciphertext does not open with its key (tampered or moved)") from error

    def needs_rotation(self, token: str) -> bool:
        return key_id_of(token) != self.active_key_id


def key_id_of(token: str) -> str:
    return _split(token)[1]


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(":", 2)
    if len(parts) != 3:
        raise DecryptionError("not a ciphertext of this service")
    return parts[0], parts[1], parts[2]


def new_key() -> str:
    """A fresh base64 key, for operators: `python -c 'from ...crypto import new_key; print(new_key())'`."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()
