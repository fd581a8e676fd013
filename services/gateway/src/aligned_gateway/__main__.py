import sys

from aligned_common.cli import run_service_cli
from aligned_gateway.bootstrap import build, serve


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        serve(build())  # the gateway adds its own middleware to the common app
        return
    sys.exit(run_service_cli(build))


if __name__ == "__main__":
    main()
