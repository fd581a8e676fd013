"""Secrets at rest: AES-256-GCM under a ring of keys, every ciphertext tagged with its key's id.

One module for every service that keeps a secret in its database (connections: platform
tokens and PKCE verifiers; webhooks: endpoint signing secrets). New values are sealed with the
active key; any key still in the ring opens, so a key is retired in three steps: add the new
key and make it active, re-encrypt (`reseal`, each service's `rotate-keys` command), then drop
the old key once nothing is left under it. The associated data (`context`, e.g. a row id and a
column) binds a ciphertext to where it is stored: copied into another row, it does not open.

Two storage shapes, one cipher:
- text, `v1:<key id>:<base64url(nonce || ciphertext+tag)>` (`encrypt` / `decrypt`);
- a key-id column beside a bytea column (`seal` / `open` with `Sealed`).

Two configuration shapes, read by `KeyRing.from_json` (`{"k1": "<base64>", ...}` plus the
active id) and `KeyRing.from_current_and_old` (`<id>:<base64>` or bare base64, whose id is then
a fingerprint of the key, plus a list of old ones).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TEXT_FORMAT = "v1"
NONCE_BYTES = 12
KEY_BYTES = 32


class KeyRingError(ValueError):
    pass


class KeyConfigError(KeyRingError):
    """The key ring in the environment is missing or malformed."""


class DecryptionError(KeyRingError):
    """A ciphertext that no key in the ring opens (unknown key id, tampering, wrong row)."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    blob: bytes  # nonce || ciphertext+tag


def parse_key(text: str) -> tuple[str, bytes]:
    """`key-id:base64` or bare base64 (its id is then a fingerprint of the key)."""
    key_id, sep, encoded = text.strip().rpartition(":")
    if not sep:
        key_id, encoded = "", text.strip()
    key = _decode_key(encoded, "an encryption key must be base64 (optionally prefixed by 'key-id:')")
    return key_id or fingerprint(key), key


def fingerprint(key: bytes) -> str:
    return "k-" + hashlib.sha256(key).hexdigest()[:8]


def _decode_key(encoded: str, message: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise KeyConfigError(message) from error


class KeyRing:
    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise KeyConfigError(f"active key {active_key_id!r} is not in the key ring")
        for key_id, key in keys.items():
            if len(key) != KEY_BYTES:
                raise KeyConfigError(f"key {key_id!r} must be {KEY_BYTES} bytes (AES-256), not {len(key)}")
            if not key_id or ":" in key_id:
                raise KeyConfigError(f"key id {key_id!r} must be non-empty and may not contain ':'")
        self._aeads = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.active_key_id = active_key_id

    # -- configuration
    @classmethod
    def from_json(
        cls, keys_json: str | None, active_key_id: str | None, *, names: str = "the key ring"
    ) -> KeyRing:
        """`{"k1": "<base64>", "k2": ...}` and the id of the active key."""
        if not keys_json or not active_key_id:
            raise KeyConfigError(f"{names} must be set")
        try:
            encoded = json.loads(keys_json)
            keys = {str(key_id): base64.b64decode(value, validate=True) for key_id, value in encoded.items()}
        except (ValueError, AttributeError, TypeError, binascii.Error) as error:
            raise KeyConfigError(f"{names}: a JSON object of base64 keys is expected") from error
        return cls(keys, active_key_id)

    @classmethod
    def from_current_and_old(
        cls, current: str | None, old: Iterable[str] = (), *, names: str = "the key"
    ) -> KeyRing:
        """The active key and the ones before it, each `<id>:<base64>` or bare base64."""
        if not current:
            raise KeyConfigError(f"{names} is not set")
        active_id, active_key = parse_key(current)
        keys = {active_id: active_key}
        for text in old:
            if text.strip():
                key_id, key = parse_key(text)
                keys.setdefault(key_id, key)
        return cls(keys, active_id)

    @property
    def key_ids(self) -> list[str]:
        return list(self._aeads)

    # -- column shape
    def seal(self, plaintext: str, context: str) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[self.active_key_id].encrypt(nonce, plaintext.encode(), context.encode())
        return Sealed(self.active_key_id, nonce + sealed)

    def open(self, sealed: Sealed, context: str) -> str:
        aead = self._aeads.get(sealed.key_id)
        if aead is None:
            raise DecryptionError(f"no key {sealed.key_id!r} in the ring for this ciphertext")
        try:
            return aead.decrypt(
                sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:], context.encode()
            ).decode()
        except InvalidTag as error:
            raise DecryptionError("ciphertext does not open with its key (tampered or moved)") from error

    # -- text shape
    def encrypt(self, plaintext: str, context: str) -> str:
        sealed = self.seal(plaintext, context)
        return f"{TEXT_FORMAT}:{sealed.key_id}:{base64.urlsafe_b64encode(sealed.blob).decode()}"

    def decrypt(self, token: str, context: str) -> str:
        version, key_id, body = _split(token)
        if version != TEXT_FORMAT:
            raise DecryptionError(f"unknown ciphertext format {version!r}")
        try:
            blob = base64.urlsafe_b64decode(body)
        except (binascii.Error, ValueError) as error:
            raise DecryptionError("ciphertext is not base64url") from error
        return self.open(Sealed(key_id, blob), context)

    # -- rotation
    def needs_rotation(self, sealed: Sealed | str) -> bool:
        key_id = sealed.key_id if isinstance(sealed, Sealed) else key_id_of(sealed)
        return key_id != self.active_key_id

    def reseal(self, sealed: Sealed, context: str) -> Sealed:
        """The same secret under the active key (the same value when it already is)."""
        return sealed if not self.needs_rotation(sealed) else self.seal(self.open(sealed, context), context)

    def reencrypt(self, token: str, context: str) -> str:
        return (
            token if not self.needs_rotation(token) else self.encrypt(self.decrypt(token, context), context)
        )


def key_id_of(token: str) -> str:
    return _split(token)[1]


def _split(token: str) -> tuple[str, str, str]:
    parts = token.split(":", 2)
    if len(parts) != 3:
        raise DecryptionError("not a ciphertext of this key ring")
    return parts[0], parts[1], parts[2]


def new_key(key_id: str | None = None) -> str:
    """A fresh base64 key for operators (`python -m aligned_common.keyring [id]`)."""
    encoded = base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()
    return f"{key_id}:{encoded}" if key_id else encoded


if __name__ == "__main__":
    import sys

    print(new_key(sys.argv[1] if len(sys.argv) > 1 else None))
