"""The gateway's domain and service layer know nothing of HTTP: they raise domain errors, and
entrypoints/errors.py says which problem each one is."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "aligned_gateway"
WEB = {"fastapi", "starlette", "sse_starlette", "uvicorn"}


def _imports(layer: str) -> dict[str, str]:
    found = {}
    for path in (PACKAGE / layer).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update({alias.name.split(".")[0]: path.name for alias in node.names})
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found[node.module.split(".")[0]] = path.name
    return found


@pytest.mark.parametrize("layer", ["domain", "service_layer"])
def test_no_web_framework_below_the_entrypoints(layer):
    imports = _imports(layer)
    assert "__future__" in imports  # the walk sees this layer's imports (every module has that one)
    assert {name: where for name, where in imports.items() if name in WEB} == {}


def test_the_service_layer_raises_no_problems():
    names = {
        node.id
        for path in (PACKAGE / "service_layer").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Name)
    }
    assert "Problem" not in names and "HeaderProblem" not in names
