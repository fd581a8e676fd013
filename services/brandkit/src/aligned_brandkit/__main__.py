from aligned_brandkit.bootstrap import build
from aligned_common.cli import run_service_cli


def main() -> None:
    raise SystemExit(run_service_cli(build))


if __name__ == "__main__":
    main()
