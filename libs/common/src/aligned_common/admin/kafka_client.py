"""Kafka connection options from the environment: plaintext locally, SASL_SSL in Kubernetes.

ALIGNED_KAFKA_SECURITY_PROTOCOL (PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL),
ALIGNED_KAFKA_SASL_MECHANISM, ALIGNED_KAFKA_SASL_USERNAME, ALIGNED_KAFKA_SASL_PASSWORD and
ALIGNED_KAFKA_SSL_CAFILE, as the Kubernetes manifests set them for every pod.
"""

from __future__ import annotations

import os

from aiokafka import AIOKafkaConsumer
from aiokafka.helpers import create_ssl_context

from aligned_common.kafka import reliable_producer


def connection_options() -> dict:
    protocol = os.environ.get("ALIGNED_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    options: dict = {"security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = create_ssl_context(cafile=os.environ.get("ALIGNED_KAFKA_SSL_CAFILE"))
    if protocol.startswith("SASL"):
        options["sasl_mechanism"] = os.environ.get("ALIGNED_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
        options["sasl_plain_username"] = os.environ.get("ALIGNED_KAFKA_SASL_USERNAME")
        options["sasl_plain_password"] = os.environ.get("ALIGNED_KAFKA_SASL_PASSWORD")
    return options


def reader(bootstrap: str) -> AIOKafkaConsumer:
    """A group-less consumer: the tool reads by offset and never moves a service's offsets."""
    return AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, **connection_options())


def writer(bootstrap: str):
    return reliable_producer(bootstrap, **connection_options())
