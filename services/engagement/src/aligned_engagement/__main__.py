from aligned_common.cli import run_service_cli
from aligned_engagement.bootstrap import build


def main() -> None:
    raise SystemExit(run_service_cli(build))


if __name__ == "__main__":
    main()
