"""Opens and seals a connection's tokens. The associated data names the row and the column."""

from __future__ import annotations

import uuid

from aligned_connections.adapters.crypto import TokenCipher
from aligned_connections.adapters.platforms import TokenSet
from aligned_connections.domain.connection import Connection, SealedTokens

ACCESS = "access"
REFRESH = "refresh"


def context(connection_id: uuid.UUID, column: str) -> str:
    return f"platform_connections:{connection_id}:{column}"


def verifier_context(nonce: str) -> str:
    return f"oauth_states:{nonce}:code_verifier"


class TokenVault:
    def __init__(self, cipher: TokenCipher) -> None:
        self.cipher = cipher

    def seal(self, connection_id: uuid.UUID, column: str, token: str | None) -> str | None:
        return None if token is None else self.cipher.encrypt(token, context(connection_id, column))

    def seal_tokens(self, connection_id: uuid.UUID, tokens: TokenSet) -> SealedTokens:
        """What a platform's token answer is stored as (a refresh token only if it sent one)."""
        refresh = tokens.refresh_token.get_secret_value() if tokens.refresh_token else None
        return SealedTokens(
            access_token_ct=self.seal(connection_id, ACCESS, tokens.access_token.get_secret_value()),
            refresh_token_ct=self.seal(connection_id, REFRESH, refresh),
            expires_at=tokens.expires_at,
        )

    def open(self, connection_id: uuid.UUID, column: str, ciphertext: str | None) -> str | None:
        return None if ciphertext is None else self.cipher.decrypt(ciphertext, context(connection_id, column))

    def access_token(self, connection: Connection) -> str | None:
        return self.open(connection.id, ACCESS, connection.access_token_ct)

    def refresh_token(self, connection: Connection) -> str | None:
        return self.open(connection.id, REFRESH, connection.refresh_token_ct)
