"""Endpoint secrets sealed at rest: the platform's key ring (aligned_common.keyring), in its
column shape (`secret_key_id` beside `secret_sealed` = nonce || ciphertext+tag).

The key comes from the environment (a Kubernetes Secret), never the database: a copy of the
database alone does not reveal the secrets. Rotating the key: set the new key, move the old one
to the old-keys list, run `rotate-keys` (re-seals every endpoint's secrets under the new key),
then drop the old key once it reports nothing left.
"""

from __future__ import annotations

from aligned_common.keyring import KeyRing, KeyRingError, Sealed, parse_key

__all__ = ["Sealed", "SecretBox", "SecretBoxError", "parse_key"]

SecretBoxError = KeyRingError


class SecretBox(KeyRing):
    def __init__(self, current: str, old: list[str] | None = None) -> None:
        active_id, active_key = parse_key(current)
        keys = {active_id: active_key}
        for text in old or []:
            key_id, key = parse_key(text)
            keys.setdefault(key_id, key)
        super().__init__(keys, active_id)

    @property
    def current_key_id(self) -> str:
        return self.active_key_id

    @classmethod
    def from_settings(cls, current: str | None, old: str | None) -> SecretBox:
        if not current:
            raise SecretBoxError("ALIGNED_WEBHOOKS_ENCRYPTION_KEY is not set")
        return cls(current, [k for k in (old or "").split(",") if k.strip()])
