"""What production packages may import, read from their source (every import statement, a
function's own included): never the test helpers (aligned_testing is dev-only and not in
any image), and no service another service (they talk through events and HTTP only)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "aligned_common": ROOT / "libs" / "common" / "src" / "aligned_common",
    **{
        f"aligned_{d.name}": d / "src" / f"aligned_{d.name}"
        for d in sorted((ROOT / "services").iterdir())
        if (d / "src" / f"aligned_{d.name}").is_dir()
    },
}


def imported_packages(package_dir: Path) -> dict[str, set[str]]:
    """Top-level package -> the modules (relative paths) that import it."""
    found: dict[str, set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_walk_sees_imports_inside_functions_too():
    imports = imported_packages(PRODUCTION["aligned_gateway"])
    assert "aligned_common" in imports and "uvicorn" in imports  # bootstrap.serve imports uvicorn inside


@pytest.mark.parametrize("package", sorted(PRODUCTION))
def test_no_production_package_imports_the_test_helpers(package):
    assert "aligned_testing" not in imported_packages(PRODUCTION[package])


@pytest.mark.parametrize("package", sorted(PRODUCTION))
def test_a_service_imports_no_other_service_and_common_none_at_all(package):
    allowed = {package, "aligned_common"}
    imports = imported_packages(PRODUCTION[package])
    assert {
        name: modules for name, modules in imports.items() if name in PRODUCTION and name not in allowed
    } == {}
