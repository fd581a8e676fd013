"""Production pods reach Kafka over SASL_SSL; the same env configures every client."""

import pytest
from faststream.security import SASLScram512

from aligned_common.kafka import broker_security, connection_options

pytestmark = pytest.mark.unit


def test_plaintext_by_default(monkeypatch):
    monkeypatch.delenv("ALIGNED_KAFKA_SECURITY_PROTOCOL", raising=False)
    assert connection_options() == {"security_protocol": "PLAINTEXT"}
    assert broker_security() is None


def test_sasl_ssl_from_the_environment(monkeypatch):
    monkeypatch.setenv("ALIGNED_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ALIGNED_KAFKA_SASL_USERNAME", "aligned-publishing")
    monkeypatch.setenv("ALIGNED_KAFKA_SASL_PASSWORD", "from-a-secret")
    options = connection_options()
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "aligned-publishing"
    assert options["ssl_context"] is not None
    security = broker_security()
    assert isinstance(security, SASLScram512)
    assert security.use_ssl and security.username == "aligned-publishing"
