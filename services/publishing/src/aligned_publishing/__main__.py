import sys

from aligned_common.cli import run_service_cli
from aligned_publishing.bootstrap import build


def main() -> None:
    sys.exit(run_service_cli(build))


if __name__ == "__main__":
    main()
