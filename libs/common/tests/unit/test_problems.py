"""Every service's OpenAPI document lists the problems its operations answer, as problem+json
with the one Problem schema (what the handlers send), and a route adds the ones only it has."""

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from aligned_common.problems import PROBLEM_JSON, Problem, install_problem_handlers, problem_responses

pytestmark = pytest.mark.unit


class Thing(BaseModel):
    name: str


def app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/things")
    async def list_things(cursor: str | None = None) -> list[Thing]:
        return []

    @app.post("/things/{thing_id}/restore", responses=problem_responses(410))
    async def restore(thing_id: int, body: Thing) -> Thing:
        raise Problem(410, "Gone")

    @app.get("/ping")
    async def ping() -> dict:
        return {}

    return app


def problem_codes(operation: dict) -> set[str]:
    return {
        code
        for code, response in operation["responses"].items()
        if PROBLEM_JSON in response.get("content", {})
    }


def test_operations_list_the_problems_of_their_shape_with_one_schema():
    service = app()
    doc = TestClient(service).get("/openapi.json").json()
    listing, restore, ping = (
        doc["paths"]["/things"]["get"],
        doc["paths"]["/things/{thing_id}/restore"]["post"],
        doc["paths"]["/ping"]["get"],
    )
    assert problem_codes(listing) == {"400", "403", "422"}
    assert problem_codes(restore) == {"400", "403", "404", "409", "410", "422"}
    assert problem_codes(ping) == {"400", "403"}
    # FastAPI's own 422 (application/json, HTTPValidationError) is not what the handler sends.
    assert set(restore["responses"]["422"]["content"]) == {PROBLEM_JSON}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    ref = restore["responses"]["410"]["content"][PROBLEM_JSON]["schema"]["$ref"]
    assert ref == "#/components/schemas/Problem" and doc["components"]["schemas"]["Problem"]["required"] == [
        "type",
        "title",
        "status",
    ]
    assert service.openapi() is service.openapi()  # built once


def test_the_documented_422_is_what_a_bad_request_gets():
    client = TestClient(app())
    answer = client.post("/things/x/restore", json={})
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM_JSON
    assert {e["field"] for e in answer.json()["errors"]} == {"path.thing_id", "name"}


def test_a_problem_names_its_kind_by_status_unless_it_names_its_own():
    from aligned_common.problems import problem_response

    assert json.loads(problem_response(404, "No such job").body)["type"] == "urn:aligned:problem:not-found"
    assert json.loads(problem_response(418, "Teapot").body)["type"] == "urn:aligned:problem:http-418"
    assert json.loads(problem_response(409, "Locked", type_="urn:x").body)["type"] == "urn:x"


def test_a_body_field_called_body_keeps_its_name():
    class Template(BaseModel):
        body: str

    service = FastAPI()
    install_problem_handlers(service)

    @service.post("/templates")
    async def create(template: Template) -> Template:
        return template

    answer = TestClient(service).post("/templates", json={"body": 1})
    assert [e["field"] for e in answer.json()["errors"]] == ["body"]
