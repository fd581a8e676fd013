"""Tokens at rest: the platform's key ring (aligned_common.keyring), in its text shape.

Format: `v1:<key id>:<base64url(nonce || ciphertext+tag)>`. New values use the active key;
any key still in the ring decrypts, so keys rotate without downtime: add the new key, make it
active, run `rotate-keys`, then drop the old one. The associated data binds a ciphertext to
its row and column, so a value copied into another row does not decrypt.
"""

from __future__ import annotations

from aligned_common.keyring import DecryptionError, KeyConfigError, KeyRing, key_id_of, new_key

__all__ = ["DecryptionError", "KeyConfigError", "TokenCipher", "key_id_of", "new_key"]


class TokenCipher(KeyRing):
    @classmethod
    def from_config(cls, keys_json: str | None, active_key_id: str | None) -> TokenCipher:
        """From ALIGNED_CONNECTIONS_ENCRYPTION_KEYS ({"k1": "<base64>"}) and ..._ACTIVE_KEY_ID."""
        ring = cls.from_json(
            keys_json,
            active_key_id,
            names="ALIGNED_CONNECTIONS_ENCRYPTION_KEYS and ALIGNED_CONNECTIONS_ACTIVE_KEY_ID",
        )
        assert isinstance(ring, TokenCipher)  # from_json builds `cls`; its annotation says KeyRing
        return ring
