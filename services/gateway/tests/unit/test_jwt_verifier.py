"""Token verification: pinned algorithms per key, JWKS keys, claims checks (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from aligned_gateway.adapters.jwt_verifier import InvalidToken, JwksKeys, TokenVerifier

pytestmark = pytest.mark.unit

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
SECRET = "s" * 40


def _claims(**extra) -> dict:
    now = int(time.time())
    return {
        "iss": "aligned",
        "aud": "aligned-api",
        "sub": "u1",
        "tenant_id": str(uuid.uuid4()),
        "brand_id": str(uuid.uuid4()),
        "role": "editor",
        "iat": now,
        "exp": now + 300,
        **extra,
    }


@pytest.fixture
def verifier(tmp_path) -> TokenVerifier:
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(RSA_KEY.public_key())) | {"kid": "rsa1", "use": "sig"}
    ec_jwk = json.loads(ECAlgorithm.to_jwk(EC_KEY.public_key())) | {"kid": "ec1", "use": "sig"}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [rsa_jwk, ec_jwk]}))
    jwks = JwksKeys(url=None, file=str(path), refresh_s=300)
    return TokenVerifier(secret=SECRET, jwks=jwks, issuer="aligned", audience="aligned-api")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hand_signed_hs256(payload: dict, key: bytes, kid: str) -> str:
    """What an attacker sends: HS256 'signed' with the RSA public key (PyJWT refuses to make it)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = _b64(json.dumps(payload).encode())
    signature = hmac.new(key, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


async def test_rs256_es256_and_hs256_tokens_verify(verifier):
    rs = jwt.encode(_claims(), RSA_KEY, algorithm="RS256", headers={"kid": "rsa1"})
    es = jwt.encode(_claims(), EC_KEY, algorithm="ES256", headers={"kid": "ec1"})
    hs = jwt.encode(
        _claims(brand_id=None, brands=[str(uuid.uuid4()), str(uuid.uuid4())]), SECRET, algorithm="HS256"
    )
    assert (await verifier.verify(rs)).role == "editor"
    assert (await verifier.verify(es)).subject == "u1"
    assert len((await verifier.verify(hs)).brand_ids) == 2


async def test_algorithm_confusion_is_refused(verifier):
    public_pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for kid in ("rsa1", None):
        confused = _hand_signed_hs256(_claims(), public_pem, kid)
        with pytest.raises(InvalidToken):
            await verifier.verify(confused)
    # An RS256 header on the EC key's kid, or ES256 on the RSA key's, is refused as well.
    with pytest.raises(InvalidToken):
        await verifier.verify(jwt.encode(_claims(), EC_KEY, algorithm="ES256", headers={"kid": "rsa1"}))
    with pytest.raises(InvalidToken):
        await verifier.verify(jwt.encode(_claims(), RSA_KEY, algorithm="RS384", headers={"kid": "rsa1"}))


async def test_none_alg_and_bad_claims_are_refused(verifier):
    for bad in (
        jwt.encode(_claims(), None, algorithm="none"),
        jwt.encode(_claims(iss="evil"), SECRET, algorithm="HS256"),
        jwt.encode(_claims(aud="other"), SECRET, algorithm="HS256"),
        jwt.encode(_claims(exp=int(time.time()) - 120), SECRET, algorithm="HS256"),
        jwt.encode(_claims(nbf=int(time.time()) + 600), SECRET, algorithm="HS256"),
        jwt.encode({k: v for k, v in _claims().items() if k != "exp"}, SECRET, algorithm="HS256"),
        jwt.encode(_claims(tenant_id="not-a-uuid"), SECRET, algorithm="HS256"),
        jwt.encode(_claims(), RSA_KEY, algorithm="RS256", headers={"kid": "unknown"}),
    ):
        with pytest.raises(InvalidToken):
            await verifier.verify(bad)


async def test_hs256_is_refused_when_only_jwks_is_configured(tmp_path, verifier):
    jwks_only = TokenVerifier(secret=None, jwks=verifier._jwks, issuer="aligned", audience="aligned-api")
    with pytest.raises(InvalidToken):
        await jwks_only.verify(jwt.encode(_claims(), SECRET, algorithm="HS256"))
