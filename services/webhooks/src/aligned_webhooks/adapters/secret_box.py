"""Endpoint secrets sealed at rest with AES-256-GCM, each ciphertext tagged with its key id.

The key comes from the environment (a Kubernetes Secret), never the database: a copy of the
database alone does not reveal the secrets. Rotating the key: set the new key, move the old one
to the old-keys list; secrets sealed earlier still open, new ones use the new key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12


class SecretBoxError(RuntimeError):
    pass


@dataclass(frozen=True)
class Sealed:
    key_id: str
    blob: bytes  # nonce || ciphertext+tag


def parse_key(text: str) -> tuple[str, bytes]:
    """`key-id:base64` or bare base64 (its id is then a fingerprint of the key)."""
    key_id, sep, encoded = text.strip().rpartition(":")
    if not sep:
        key_id, encoded = "", text.strip()
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SecretBoxError("an encryption key must be base64 (optionally prefixed by 'key-id:')") from error
    if len(key) != 32:
        raise SecretBoxError(f"an encryption key must be 32 bytes, got {len(key)}")
    return key_id or "k-" + hashlib.sha256(key).hexdigest()[:8], key


class SecretBox:
    def __init__(self, current: str, old: list[str] | None = None) -> None:
        self.current_key_id, current_key = parse_key(current)
        self._keys = {self.current_key_id: AESGCM(current_key)}
        for text in old or []:
            key_id, key = parse_key(text)
            self._keys.setdefault(key_id, AESGCM(key))

    @classmethod
    def from_settings(cls, current: str | None, old: str | None) -> SecretBox:
        if not current:
            raise SecretBoxError("ALIGNED_WEBHOOKS_ENCRYPTION_KEY is not set")
        return cls(current, [k for k in (old or "").split(",") if k.strip()])

    def seal(self, plaintext: str, context: str) -> Sealed:
        """`context` (the endpoint id) is authenticated: a ciphertext copied to another row fails."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.current_key_id].encrypt(nonce, plaintext.encode(), context.encode())
        return Sealed(self.current_key_id, nonce + sealed)

    def open(self, sealed: Sealed, context: str) -> str:
        cipher = self._keys.get(sealed.key_id)
        if cipher is None:
            raise SecretBoxError(f"no encryption key with id {sealed.key_id!r} is configured")
        nonce, body = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
        return cipher.decrypt(nonce, body, context.encode()).decode()
