"""The frontend's contract: the API document the gateway serves is the one generated from the
services' routes and models (no drift), and it is a document a client generator can use:
readable unique operation ids, resource tags, problems as application/problem+json, the
Idempotency-Key where the gateway honours it, one cursor, and every subscribable webhook."""

import json
import re

import pytest

from aligned_gateway.service_layer.openapi import served_document
from aligned_testing.contract import DOCUMENT, ROOT, generate, render
from aligned_webhooks.domain.deliverable import DELIVERABLE_EVENT_TYPES

pytestmark = pytest.mark.unit

METHODS = ("get", "head", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document():
    return generate()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_the_checked_in_document_is_the_generated_one(document):
    assert DOCUMENT.read_text() == render(document), "run `make schemas` and commit the document"
    assert (ROOT / "schemas/openapi.json").resolve() == DOCUMENT.resolve()


def test_the_gateway_serves_the_checked_in_document_whatever_is_up():
    assert served_document() == json.loads(DOCUMENT.read_text())
    assert {"/v1/jobs", "/v1/approvals", "/v1/connections", "/v1/analytics/summary"} <= set(
        served_document()["paths"]
    )


def test_operation_ids_are_unique_lower_camel_case_names(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert [i for i in ids if not re.fullmatch(r"[a-z][a-zA-Z0-9]*", i)] == []
    assert {"createJob", "listJobs", "submitJob", "rescheduleJob", "scheduleJob"} <= set(ids)


def test_every_operation_has_a_resource_tag_and_problems_as_problem_json(document):
    for path, method, operation in operations(document):
        assert operation.get("tags"), f"{method} {path} has no tag"
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == ["application/problem+json"], (method, path, status)


def test_authenticated_posts_take_an_idempotency_key_and_lists_one_cursor(document):
    for path, method, operation in operations(document):
        names = {p.get("name") for p in operation.get("parameters", [])}
        refs = {p.get("$ref") for p in operation.get("parameters", [])}
        if method == "post" and operation.get("security") != []:
            assert "Idempotency-Key" in names, f"POST {path}"
        assert "cursor" not in names, f"{method} {path} describes its cursor inline"
        if "#/components/parameters/Cursor" in refs:
            assert method == "get"
    assert "#/components/parameters/Cursor" in {
        p.get("$ref") for _, _, o in operations(document) for p in o.get("parameters", [])
    }


def test_every_subscribable_event_is_a_documented_webhook(document):
    assert set(document["webhooks"]) == DELIVERABLE_EVENT_TYPES
    schemas = document["components"]["schemas"]
    for event_type, item in document["webhooks"].items():
        ref = item["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schemas[ref.rsplit("/", 1)[1]]
        assert body["properties"]["type"] == {"const": event_type}
        assert body["properties"]["data"]["$ref"].rsplit("/", 1)[1] in schemas
        assert {p["name"] for p in item["post"]["parameters"]} == {
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
        }
