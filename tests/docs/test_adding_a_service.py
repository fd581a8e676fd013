"""docs/adding-a-service.md shows the example service's files as they are.

Each block the doc marks `<!-- file: PATH -->` must equal that file, and every file of the
example a reader copies (its source, migrations and unit tests; package markers aside) must be shown.
"""

from __future__ import annotations

import re

import pytest

from aligned_testing.infra import REPO_ROOT

pytestmark = pytest.mark.unit

DOC = REPO_ROOT / "docs" / "adding-a-service.md"
EXAMPLE = REPO_ROOT / "docs" / "examples" / "example"
_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def shown() -> dict[str, str]:
    blocks = _BLOCK.findall(DOC.read_text())
    assert blocks, "the doc shows no file"
    return dict(blocks)


@pytest.mark.parametrize("path", sorted(shown()))
def test_a_block_of_the_doc_is_its_file_as_it_is(path):
    assert shown()[path] == (REPO_ROOT / path).read_text(), (
        f"{DOC.name} shows {path} otherwise than it is: paste the file into the doc again"
    )


def test_every_file_of_the_example_is_shown():
    copied = [
        *EXAMPLE.glob("src/**/*.py"),
        *EXAMPLE.glob("migrations/*.sql"),
        *EXAMPLE.glob("tests/unit/*.py"),
    ]
    expected = {str(p.relative_to(REPO_ROOT)) for p in copied if p.name != "__init__.py"}
    assert expected - set(shown()) == set()
