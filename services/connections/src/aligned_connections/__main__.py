"""`python -m aligned_connections migrate|migrate-status|serve|rotate-keys`."""

from __future__ import annotations

import sys

from aligned_connections.bootstrap import build
from aligned_connections.entrypoints.cli import run


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(build, sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
