import sys

from aligned_analytics.bootstrap import build
from aligned_common.cli import run_service_cli


def main() -> None:
    sys.exit(run_service_cli(build))


if __name__ == "__main__":
    main()
