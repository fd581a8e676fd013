"""Review and unsubscribe link tokens: only the exact text we issued verifies."""

import string

import pytest

from aligned_approval.domain import tokens

pytestmark = pytest.mark.unit

SECRET = b"secret-secret-secret"
ALPHABET = string.ascii_letters + string.digits + "-_.=+/ é\u2603"


def one_character_tampers(token: str):
    for i, original in enumerate(token):
        yield token[:i] + token[i + 1 :]
        for c in ALPHABET:
            yield token[:i] + c + token[i:]
            if c != original:
                yield token[:i] + c + token[i + 1 :]
    for c in ALPHABET:
        yield token + c


@pytest.mark.parametrize("purpose", ["review-link", "unsubscribe"])
def test_every_one_character_change_of_a_token_is_refused(purpose):
    token = tokens.sign(purpose, {"l": "link-1", "b": "brand-1"}, SECRET)
    assert tokens.verify(purpose, token, SECRET) == {"l": "link-1", "b": "brand-1"}
    accepted = []
    for tampered in one_character_tampers(token):
        try:
            tokens.verify(purpose, tampered, SECRET)
            accepted.append(tampered)
        except tokens.InvalidToken:
            pass
    assert accepted == []


def test_a_token_with_non_ascii_text_is_refused_not_a_crash():
    token = tokens.sign("review-link", {"l": "1"}, SECRET)
    with pytest.raises(tokens.InvalidToken):
        tokens.verify("review-link", token[:-1] + "é", SECRET)
