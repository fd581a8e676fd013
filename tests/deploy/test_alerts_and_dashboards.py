"""Every metric the alerts and the Grafana dashboard read is one our services export (or the
Kafka exporter's consumer lag): a renamed metric must not leave an alert silently empty."""

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import aligned_common.metrics  # noqa: F401
import aligned_webhooks.metrics  # noqa: F401

pytestmark = pytest.mark.unit

PLATFORM = Path(__file__).resolve().parents[2] / "deploy/k8s/base/platform"
# Metrics from outside our code: Strimzi's Kafka Exporter, and the request metrics that
# prometheus-fastapi-instrumentator registers per app (tests/unit/test_http_metrics.py).
EXTERNAL = {"kafka_consumergroup_lag", "http_requests_total", "http_request_duration_seconds"}
METRIC = re.compile(r"\b((?:aligned|http|kafka)_[a-z0-9_]+)\b")


def exported() -> set[str]:
    names = set()
    for collector in list(REGISTRY._collector_to_names):
        for family in collector.describe() if hasattr(collector, "describe") else []:
            names.add(family.name)
            if family.type == "counter":
                names.add(f"{family.name}_total")
            if family.type == "histogram":
                names |= {f"{family.name}_bucket", f"{family.name}_sum", f"{family.name}_count"}
    return names | EXTERNAL | {f"{n}_bucket" for n in EXTERNAL}


def expressions() -> list[str]:
    rules = yaml.safe_load((PLATFORM / "alerts.yaml").read_text())["spec"]["groups"]
    exprs = [rule["expr"] for group in rules for rule in group["rules"]]
    for dashboard in (PLATFORM / "dashboards").glob("*.json"):
        exprs += [t["expr"] for p in json.loads(dashboard.read_text())["panels"] for t in p["targets"]]
    return exprs


def test_every_metric_an_alert_or_a_panel_reads_exists():
    names = exported()
    used = {m for expr in expressions() for m in METRIC.findall(expr)}
    assert used, "no expression read"
    assert sorted(used - names) == []


def test_the_alerts_cover_what_an_operator_is_paged_for():
    alerts = {
        rule["alert"]
        for group in yaml.safe_load((PLATFORM / "alerts.yaml").read_text())["spec"]["groups"]
        for rule in group["rules"]
    }
    assert {
        "AlignedOutboxLagging",
        "AlignedDeadLettersGrowing",
        "AlignedConsumerLagging",
        "AlignedWebhookDeliveriesFailing",
        "AlignedPublishFailureRate",
    } <= alerts
