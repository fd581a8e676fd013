"""Kafka clients of the operator tool, with the platform's connection options."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer

from aligned_common.kafka import connection_options, reliable_producer


def reader(bootstrap: str) -> AIOKafkaConsumer:
    """A group-less consumer: the tool reads by offset and never moves a service's offsets."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, **connection_options()
    )


def writer(bootstrap: str):
    return reliable_producer(bootstrap)
